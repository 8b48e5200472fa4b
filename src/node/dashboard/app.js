// petalmesh dashboard: plain browser JavaScript, no dependencies, no build step.
// It reads the node's JSON API and stays live through /v1/events (EventSource). Every string that
// comes from the swarm (names, reasons) is inserted as text, never as HTML.
'use strict'
;(function () {
  const SVG = 'http://www.w3.org/2000/svg'
  const MAX_EVENTS = 200
  const EVENT_TYPES = ['member-joined', 'member-updated', 'member-suspect', 'member-offline', 'member-left', 'member-back',
    'member-pruned', 'twin-detected', 'self-updated', 'coverage', 'route-changed', 'node-stopping', 'node']
  const QUIET_EVENTS = new Set(['member-updated', 'coverage'])
  const TONE = {
    'member-joined': 'good', 'member-back': 'good', 'member-offline': 'bad', 'member-left': 'warn', 'member-suspect': 'warn',
    'twin-detected': 'bad', 'node-stopping': 'bad', 'self-updated': 'info', 'route-changed': 'info', 'coverage': 'info', 'member-pruned': 'info'
  }

  const state = {
    status: null,
    info: null,
    peers: null,
    coverage: null,
    route: null,
    mode: 'min-latency',
    events: [],
    names: new Map()
  }

  // ---------- helpers ----------
  const $ = (id) => document.getElementById(id)
  function el (tag, attrs, ...children) {
    const e = document.createElement(tag)
    if (attrs != null) for (const [k, v] of Object.entries(attrs)) if (v != null) e.setAttribute(k, String(v))
    for (const c of children) if (c != null) e.append(c instanceof Node ? c : document.createTextNode(String(c)))
    return e
  }
  function svg (tag, attrs) {
    const e = document.createElementNS(SVG, tag)
    if (attrs != null) for (const [k, v] of Object.entries(attrs)) if (v != null) e.setAttribute(k, String(v))
    return e
  }
  function short (id) {
    if (typeof id !== 'string') return '–'
    return id.length > 14 ? id.slice(0, 6) + '…' + id.slice(-6) : id
  }
  function nameOf (peerId) {
    const n = state.names.get(peerId)
    return n != null && n !== '' ? n : short(peerId)
  }
  function fmtNum (x, digits) {
    if (x == null || !Number.isFinite(x)) return '–'
    return x.toLocaleString(undefined, { maximumFractionDigits: digits ?? 1 })
  }
  function fmtDuration (ms) {
    if (ms == null || !Number.isFinite(ms)) return '–'
    const s = Math.max(0, Math.floor(ms / 1000))
    if (s < 60) return s + ' s'
    const m = Math.floor(s / 60)
    if (m < 60) return m + ' min ' + (s % 60) + ' s'
    const h = Math.floor(m / 60)
    if (h < 48) return h + ' h ' + (m % 60) + ' min'
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h'
  }
  function fmtAgo (ms) {
    if (ms == null || !Number.isFinite(ms)) return '–'
    if (ms < 1000) return 'now'
    if (ms < 60_000) return (ms / 1000).toFixed(ms < 10_000 ? 1 : 0) + ' s'
    return fmtDuration(ms)
  }
  function fmtTime (ts) {
    const d = new Date(ts)
    return d.toLocaleTimeString(undefined, { hour12: false })
  }
  function spanText (span) { return span == null ? '–' : span.start + '–' + (span.end - 1) }
  /** What the map shows for a row: liveness beats the announced state once a member is suspect or gone. */
  function rowState (row) {
    if (row.liveness === 'suspect') return 'suspect'
    if (row.liveness === 'offline') return 'offline'
    if (row.liveness === 'left') return 'left'
    return row.state
  }
  function isDead (row) { return row.liveness === 'offline' || row.liveness === 'left' }

  async function getJson (path) {
    const ctrl = new AbortController()
    const timer = setTimeout(() => ctrl.abort(), 8000)
    try {
      const res = await fetch(path, { signal: ctrl.signal, headers: { accept: 'application/json' } })
      if (!res.ok) throw new Error(path + ': HTTP ' + res.status)
      return await res.json()
    } finally {
      clearTimeout(timer)
    }
  }

  // ---------- refresh scheduling ----------
  // Snapshot endpoints are re-read after events (coalesced) and every few seconds regardless.
  let refreshTimer = null
  let refreshing = false
  let lastRefresh = 0
  function scheduleRefresh (delay) {
    if (refreshTimer != null) return
    const wait = Math.max(delay ?? 150, 600 - (Date.now() - lastRefresh))
    refreshTimer = setTimeout(() => { refreshTimer = null; void refresh() }, wait)
  }
  async function refresh () {
    if (refreshing) { scheduleRefresh(300); return }
    refreshing = true
    lastRefresh = Date.now()
    try {
      const [status, info, peers, coverage] = await Promise.all([getJson('/v1/status'), getJson('/v1/network/info'), getJson('/v1/peers'), getJson('/v1/network/coverage')])
      state.status = status; state.info = info; state.peers = peers; state.coverage = coverage
      for (const p of peers.peers) state.names.set(p.peerId, p.publicName)
      if (peers.selfRow != null) state.names.set(peers.selfRow.peerId, peers.selfRow.publicName)
      renderHeader(); renderSelf(); renderMap(); renderPeers()
      document.body.dataset.loaded = 'true'
    } catch (err) {
      setConn('reconnecting', 'node unreachable')
    } finally {
      refreshing = false
    }
  }

  let routeTimer = null
  let routeBusy = false
  function scheduleRoute (delay) {
    if (routeTimer != null) return
    routeTimer = setTimeout(() => { routeTimer = null; void refreshRoute() }, delay ?? 300)
  }
  async function refreshRoute () {
    if (routeBusy) { scheduleRoute(500); return }
    routeBusy = true
    try {
      state.route = await getJson('/v1/route?mode=' + encodeURIComponent(state.mode))
      renderRoute()
    } catch (err) {
      $('route-note').textContent = 'route unavailable: ' + err.message
    } finally {
      routeBusy = false
    }
  }

  let logsBusy = false
  async function refreshLogs () {
    const details = $('logs-details')
    if (!details.open || logsBusy) return
    logsBusy = true
    try {
      const out = await getJson('/v1/logs?limit=300')
      renderLogs(out)
    } catch {} finally { logsBusy = false }
  }

  // ---------- header ----------
  function kpi (id, text, tone) {
    const k = $(id)
    k.querySelector('dd').textContent = text
    if (tone != null) k.dataset.tone = tone; else delete k.dataset.tone
  }
  function renderHeader () {
    const info = state.info
    const status = state.status
    if (info == null || status == null) return
    $('model').textContent = info.model + ' · ' + info.totalBlocks + ' blocks'
    document.title = 'petalmesh · ' + info.model + ' · ' + fmtNum(info.coveragePercent, 0) + '%'
    kpi('kpi-coverage', fmtNum(info.coveragePercent, 1) + '%', info.coveragePercent >= 100 ? 'good' : info.coveragePercent > 0 ? 'warn' : 'bad')
    kpi('kpi-ready', info.readyForInference ? 'ready' : 'not ready', info.readyForInference ? 'good' : 'bad')
    kpi('kpi-online', String(info.onlineNodes), null)
    const target = info.replicationTarget ?? 1
    kpi('kpi-minrep', String(info.minReplication), info.minReplication >= target ? 'good' : info.minReplication > 0 ? 'warn' : 'bad')
    kpi('kpi-avgrep', fmtNum(info.avgReplication, 2), null)
    kpi('kpi-bottleneck', fmtNum(info.bottleneckThroughput, 0) + ' tok/s', null)
    $('foot-version').textContent = 'petalmesh ' + status.version + ' · node ' + short(status.peerId)
  }

  // ---------- this node ----------
  function renderSelf () {
    const s = state.status
    if (s == null) return
    const badge = $('self-state')
    badge.textContent = s.state
    badge.dataset.state = s.state
    $('self-peer').textContent = s.peerId
    const loading = s.loading
    const wrap = $('self-progress')
    if (loading != null && loading.total > 0) {
      wrap.hidden = false
      const pct = Math.min(100, (100 * loading.done) / loading.total)
      const bar = $('self-progress-bar')
      bar.style.width = pct.toFixed(1) + '%'
      bar.dataset.done = String(loading.done >= loading.total)
      $('self-progress-text').textContent = loading.done + ' / ' + loading.total + ' (' + pct.toFixed(0) + '%)'
    } else {
      wrap.hidden = true
    }
    const petals = s.petalsBackend
    const facts = [
      ['Role', s.role],
      ['Span', s.span == null ? 'none' : spanText(s.span) + '  (' + (s.span.end - s.span.start) + ' blocks)'],
      ['Capacity', s.capacity + ' blocks'],
      ['Throughput', fmtNum(s.throughput, 1) + ' tok/s'],
      ['Petals', petals != null ? petals.state + (petals.lastError != null ? ' — ' + petals.lastError.kind : '') : (s.petals != null ? s.petals.state : 'not supervised')],
      ['Restarts', String(s.restarts)],
      ['Tokens served', fmtNum(s.tokensTotal, 0)],
      ['Uptime', fmtDuration(s.uptimeMs)],
      ['Connections', s.connections + ' (' + s.peers + ' peers)'],
      ['Swarm members', String(s.swarmMembers)]
    ]
    // Servers that plan differently re-judge each other's claims and make extra moves (README "Keep a
    // swarm's servers alike"): name the first few and what differs.
    const odd = Array.isArray(s.plannerMismatches) ? s.plannerMismatches : []
    if (s.role === 'server') {
      facts.push(['Planner', odd.length === 0
        ? 'same as every server in view'
        : odd.length + (odd.length === 1 ? ' server plans' : ' servers plan') + ' differently: ' +
          odd.slice(0, 3).map(m => (m.publicName || short(m.peerId)) + ' (' + m.differs.join('; ') + ')').join(', ') + (odd.length > 3 ? ', …' : '')])
    }
    const dl = $('self-facts')
    dl.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', null, k), el('dd', null, v)]))
    $('self-addrs').replaceChildren(...s.addresses.map(a => el('li', null, a)))
  }

  // ---------- coverage map ----------
  function mapRows () {
    const p = state.peers
    if (p == null) return []
    const rows = []
    if (p.selfRow != null) rows.push(p.selfRow)
    for (const r of p.peers) rows.push(r)
    const withSpan = rows.filter(r => r.span != null)
    withSpan.sort((a, b) => (isDead(a) - isDead(b)) || (a.span.start - b.span.start) || (a.span.end - b.span.end) || (a.peerId < b.peerId ? -1 : 1))
    return withSpan
  }
  function repLevel (n, target) {
    if (n <= 0) return 0
    if (n < target) return 1
    return n === target ? 3 : 4
  }
  function renderMap () {
    const host = $('coverage-map')
    const cov = state.coverage
    if (cov == null) return
    const L = cov.totalBlocks
    const rows = mapRows()
    const noSpan = (state.peers.peers.length + (state.peers.selfRow != null ? 1 : 0)) - rows.length
    const dead = rows.filter(isDead).length
    $('coverage-note').textContent = rows.length + ' servers' + (dead > 0 ? ' (' + dead + ' offline or left)' : '') + (noSpan > 0 ? ' · ' + noSpan + ' without a span' : '')
    if (L === 0) { host.replaceChildren(el('div', { class: 'empty' }, 'The model\'s block count is not known yet.')); return }

    const avail = Math.max(480, host.parentElement.clientWidth - 4)
    const labelW = 168
    const cellW = Math.max(7, Math.min(40, Math.floor((avail - labelW - 8) / L)))
    const gap = cellW >= 10 ? 1 : 0
    const rowH = rows.length > 40 ? 14 : 20
    const axisH = 18
    const stripH = 18
    const top = axisH + stripH + 10
    const width = labelW + L * cellW + 8
    const height = top + Math.max(1, rows.length) * rowH + 4
    const root = svg('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height, 'data-blocks': L, 'data-rows': rows.length })

    // Axis: a tick label every k blocks, k chosen so labels do not collide.
    const axis = svg('g', { class: 'axis' })
    const step = [1, 2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 250, 500, 1000].find(k => k * cellW >= 26) ?? 1000
    for (let b = 0; b < L; b += step) {
      const t = svg('text', { x: labelW + b * cellW + cellW / 2, y: axisH - 5, 'text-anchor': 'middle' })
      t.textContent = String(b)
      axis.append(t)
    }
    root.append(axis)

    // Replication strip: one cell per block, coloured by online servers (the map's summary line).
    const strip = svg('g', { class: 'strip' })
    const sl = svg('text', { class: 'striplabel', x: 0, y: axisH + stripH - 5 })
    sl.textContent = 'servers / block'
    strip.append(sl)
    const target = state.info?.replicationTarget ?? 1
    for (let b = 0; b < L; b++) {
      const n = cov.blocks[b]?.replication ?? 0
      const r = svg('rect', {
        class: 'rep', x: labelW + b * cellW, y: axisH, width: Math.max(1, cellW - gap), height: stripH, rx: cellW >= 12 ? 2 : 0,
        'data-block': b, 'data-replication': n, 'data-level': repLevel(n, target)
      })
      const title = svg('title')
      const thr = cov.blocks[b]?.throughput ?? 0
      title.textContent = 'block ' + b + ': ' + n + ' online server' + (n === 1 ? '' : 's') + ', ' + fmtNum(thr, 0) + ' tok/s' + ((cov.blocks[b]?.pending.length ?? 0) > 0 ? ', ' + cov.blocks[b].pending.length + ' loading' : '')
      r.append(title)
      strip.append(r)
      if (cellW >= 14) {
        const tx = svg('text', { class: 'repnum', x: labelW + b * cellW + (cellW - gap) / 2, y: axisH + stripH - 5 })
        tx.textContent = String(n)
        strip.append(tx)
      }
    }
    root.append(strip)

    // One row per server: its span's blocks, coloured by state.
    const body = svg('g', { class: 'rows' })
    rows.forEach((row, i) => {
      const y = top + i * rowH
      const st = rowState(row)
      const g = svg('g', { class: 'row', 'data-peer': row.peerId, 'data-state': st, 'data-liveness': row.liveness, 'data-self': row.self ? 'true' : 'false' })
      g.append(svg('rect', { class: 'rowhl', x: 0, y, width, height: rowH }))
      g.append(svg('rect', { class: 'bg', x: labelW, y: y + 2, width: L * cellW - gap, height: rowH - 4, rx: 2 }))
      const label = svg('text', { class: 'rowlabel' + (row.self ? ' self' : '') + (isDead(row) ? ' dead' : ''), x: row.self ? 12 : 0, y: y + rowH / 2 + 4 })
      const name = row.publicName !== '' ? row.publicName : short(row.peerId)
      label.textContent = name.length > 22 ? name.slice(0, 21) + '…' : name
      g.append(label)
      if (row.self) g.append(svg('circle', { class: 'selfmark', cx: 4, cy: y + rowH / 2, r: 3.5 }))
      const span = row.span
      const start = Math.max(0, span.start)
      const end = Math.min(L, span.end)
      const loadedUpTo = row.loading != null && st === 'loading' ? start + Math.round((row.loading.done / Math.max(1, row.loading.total)) * (end - start)) : end
      const tip = name + ' · ' + st + ' · blocks ' + spanText(span) + ' · ' + fmtNum(row.throughput, 1) + ' tok/s' +
        (row.loading != null && st === 'loading' ? ' · loaded ' + row.loading.done + '/' + row.loading.total : '') +
        (row.offlineReason != null ? ' · ' + row.offlineReason : '')
      for (let b = start; b < end; b++) {
        const c = svg('rect', { class: 'cell ' + st + (b >= loadedUpTo ? ' pending' : ''), x: labelW + b * cellW, y: y + 2, width: Math.max(1, cellW - gap), height: rowH - 4, rx: cellW >= 12 ? 2 : 0, 'data-block': b })
        const t = svg('title')
        t.textContent = 'block ' + b + ' · ' + tip
        c.append(t)
        g.append(c)
      }
      const t = svg('title')
      t.textContent = tip + ' · ' + row.peerId
      label.append(t)
      body.append(g)
    })
    root.append(body)
    if (rows.length === 0) {
      const t = svg('text', { class: 'rowsub', x: labelW, y: top + 14 })
      t.textContent = 'no server announces a span yet'
      root.append(t)
    }
    host.replaceChildren(root)
  }

  // ---------- peers table ----------
  function renderPeers () {
    const p = state.peers
    if (p == null) return
    const rows = []
    if (p.selfRow != null) rows.push(p.selfRow)
    const others = [...p.peers]
    const rank = { alive: 0, suspect: 1, offline: 2, left: 3 }
    others.sort((a, b) => (rank[a.liveness] - rank[b.liveness]) || ((a.span?.start ?? 1e9) - (b.span?.start ?? 1e9)) || (a.peerId < b.peerId ? -1 : 1))
    rows.push(...others)
    const alive = p.peers.filter(r => r.liveness === 'alive' || r.liveness === 'suspect').length
    $('peers-note').textContent = alive + ' live · ' + (p.peers.length - alive) + ' offline or left' + (p.selfRow != null ? ' · plus this node' : '')
    const tbody = $('peers').tBodies[0]
    tbody.replaceChildren(...rows.map(r => {
      const st = rowState(r)
      const loading = r.loading != null && r.loading.total > 0 && st === 'loading'
        ? el('span', null, el('span', { class: 'mini' }, (() => { const i = el('i'); i.style.width = Math.min(100, (100 * r.loading.done) / r.loading.total).toFixed(0) + '%'; return i })()), r.loading.done + '/' + r.loading.total)
        : '–'
      const tr = el('tr', { class: (r.self ? 'self' : '') + (isDead(r) ? ' dead' : ''), 'data-peer': r.peerId, 'data-state': st },
        el('td', null, r.publicName !== '' ? r.publicName : (r.self ? 'this node' : '–')),
        el('td', { class: 'mono', title: r.peerId }, short(r.peerId)),
        el('td', null, el('span', { class: 'badge', 'data-state': st }, st)),
        el('td', { class: 'num mono' }, spanText(r.span)),
        el('td', { class: 'num' }, r.span == null ? '–' : String(r.span.end - r.span.start)),
        el('td', { class: 'num' }, fmtNum(r.throughput, 1)),
        el('td', null, loading),
        el('td', { class: 'num' }, fmtNum(r.tokensTotal, 0)),
        el('td', { class: 'num' }, r.self ? '–' : fmtAgo(r.lastHeardMsAgo)),
        el('td', { class: 'mono' }, r.version),
        el('td', { class: 'note' }, r.offlineReason ?? (r.petals != null ? 'petals ' + r.petals.state : ''))
      )
      return tr
    }))
  }

  // ---------- route ----------
  const HOP_COLORS = ['#4f83c9', '#2f9e63', '#8e7cc3', '#d99a1e', '#3aa0a8', '#c46aa0']
  function renderRoute () {
    const r = state.route
    const bar = $('route-bar')
    const list = $('route-hops')
    const note = $('route-note')
    if (r == null) return
    if (!r.ok) {
      const total = state.coverage?.totalBlocks ?? 0
      bar.replaceChildren()
      if (total > 0) {
        const missing = r.error?.missing ?? []
        let cursor = 0
        for (const m of missing) {
          if (m.start > cursor) { const ok = el('div', { class: 'seg-hop' }); ok.style.flex = String(m.start - cursor); ok.style.background = 'transparent'; bar.append(ok) }
          const miss = el('div', { class: 'seg-hop seg-missing', title: 'missing blocks ' + spanText(m) }); miss.style.flex = String(m.end - m.start); bar.append(miss)
          cursor = m.end
        }
        if (cursor < total) { const ok = el('div', { class: 'seg-hop' }); ok.style.flex = String(total - cursor); ok.style.background = 'transparent'; bar.append(ok) }
      }
      list.replaceChildren(el('li', { class: 'route-error' }, el('span'), el('span', null, 'no route'), el('span', null, r.error?.message ?? 'no route'), el('span')))
      note.textContent = 'computed ' + fmtTime(r.computedAt)
      return
    }
    const route = r.route
    const total = Math.max(1, route.range.end - route.range.start)
    bar.replaceChildren(...route.hops.map((h, i) => {
      const len = h.span.end - h.span.start
      const d = el('div', { class: 'seg-hop', title: spanText(h.span) + ' · ' + nameOf(h.peerId) })
      d.style.flex = String(len)
      d.style.background = HOP_COLORS[i % HOP_COLORS.length]
      if ((len / total) > 0.08) d.textContent = spanText(h.span)
      return d
    }))
    list.replaceChildren(...route.hops.map((h, i) => {
      const dot = el('span', { class: 'hopdot' })
      dot.style.background = HOP_COLORS[i % HOP_COLORS.length]
      const rtt = h.rttMs == null ? 'rtt ?' : (Number.isFinite(h.rttMs) ? fmtNum(h.rttMs, 1) + ' ms' : 'unreachable')
      return el('li', { 'data-peer': h.peerId }, dot, el('span', { class: 'hopspan' }, spanText(h.span)), el('span', { class: 'hopname', title: h.peerId }, nameOf(h.peerId)), el('span', { class: 'hopmeta' }, rtt + ' · ' + fmtNum(h.throughput, 0) + ' tok/s'))
    }))
    const parts = [route.hops.length + ' hop' + (route.hops.length === 1 ? '' : 's'), 'bottleneck ' + fmtNum(route.bottleneckThroughput, 0) + ' tok/s']
    if (route.estimatedLatencyMs != null) parts.push('≈ ' + fmtNum(route.estimatedLatencyMs, 0) + ' ms/step')
    parts.push('computed ' + fmtTime(r.computedAt))
    note.textContent = parts.join(' · ')
  }
  for (const b of document.querySelectorAll('#route-panel .seg button')) {
    b.addEventListener('click', () => {
      state.mode = b.dataset.mode
      for (const o of document.querySelectorAll('#route-panel .seg button')) o.setAttribute('aria-pressed', String(o === b))
      void refreshRoute()
    })
  }

  // ---------- events ----------
  function describe (e) {
    const who = e.peerId != null ? nameOf(e.peerId) : ''
    switch (e.type) {
      case 'member-joined': return who + (e.member?.span != null ? ' · blocks ' + spanText(e.member.span) : '')
      case 'member-offline': return who + (e.reason != null ? ' · ' + e.reason : '')
      case 'member-suspect': return who + (e.reason != null ? ' · ' + e.reason : '')
      case 'member-updated': return who + ' · ' + (e.member != null ? e.member.state + ' ' + spanText(e.member.span) : '')
      case 'self-updated': return e.member != null ? e.member.state + ' · blocks ' + spanText(e.member.span) + (e.member.loading != null ? ' · loading ' + e.member.loading.done + '/' + e.member.loading.total : '') : ''
      case 'coverage': return fmtNum(e.coveragePercent, 1) + '% covered · min replication ' + e.minReplication + (e.readyForInference ? ' · ready' : ' · not ready')
      case 'route-changed': return (e.ok ? 'rerouted' : 'no route') + ' (' + e.mode + ') after ' + e.cause + ' of ' + nameOf(e.peerId)
      default: return who + (e.reason != null ? ' · ' + e.reason : '')
    }
  }
  function addEvent (e) {
    state.events.unshift(e)
    if (state.events.length > MAX_EVENTS) state.events.length = MAX_EVENTS
    const list = $('events')
    list.querySelector('.placeholder')?.remove()
    const li = el('li', { class: 'fresh', 'data-type': e.type, 'data-tone': TONE[e.type] ?? 'info' },
      el('span', { class: 't' }, fmtTime(e.at)), el('span', { class: 'k' }, e.type), el('span', { class: 'd', title: describe(e) }, describe(e)))
    list.prepend(li)
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove()
    $('events-count').textContent = state.events.length + (state.events.length >= MAX_EVENTS ? '+' : '') + ' shown'
  }

  // ---------- logs ----------
  function renderLogs (out) {
    const box = $('logs')
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 8
    box.replaceChildren(...out.lines.map(l => el('span', { class: 'l lv-' + l.level }, el('span', { class: 'src' }, fmtTime(l.ts) + ' ' + l.source.padEnd(6) + ' '), l.level.padEnd(5) + ' ' + l.text)))
    if (out.lines.length === 0) box.replaceChildren(el('span', { class: 'src' }, 'no log lines yet'))
    $('logs-note').textContent = out.total + ' lines'
    if (atBottom) box.scrollTop = box.scrollHeight
  }
  $('logs-details').addEventListener('toggle', () => { void refreshLogs() })

  // ---------- live stream ----------
  function setConn (s, label) {
    const c = $('conn')
    c.dataset.state = s
    c.querySelector('.label').textContent = label
  }
  function connect () {
    if (typeof EventSource !== 'function') { setConn('reconnecting', 'no EventSource: polling'); return }
    // lastEventId=0: the node replays the events it still holds, so the feed starts with recent history.
    const es = new EventSource('/v1/events?lastEventId=0')
    es.addEventListener('hello', () => { setConn('live', 'live'); scheduleRefresh(0); scheduleRoute(0) })
    es.onerror = () => { setConn('reconnecting', 'reconnecting') }
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (msg) => {
        let e
        try { e = JSON.parse(msg.data) } catch { return }
        if (e.member != null && e.peerId != null) state.names.set(e.peerId, e.member.publicName)
        if (!QUIET_EVENTS.has(type) || (type === 'member-updated' && (e.spanChanged || e.stateChanged))) addEvent(e)
        scheduleRefresh(type === 'member-updated' ? 400 : 100)
        if (type !== 'coverage' && type !== 'self-updated' && !(type === 'member-updated' && !e.spanChanged && !e.stateChanged)) scheduleRoute(type === 'route-changed' ? 0 : 800)
      })
    }
  }

  window.addEventListener('resize', () => { renderMap() })
  setInterval(() => { scheduleRefresh(0) }, 5000)
  setInterval(() => { scheduleRoute(0) }, 15000)
  setInterval(() => { void refreshLogs() }, 5000)
  $('events').append(el('li', { class: 'placeholder' }, 'Waiting for swarm events…'))
  void refresh()
  void refreshRoute()
  connect()
})()
