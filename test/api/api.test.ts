// The node's HTTP API against a real 4-node in-process swarm: every endpoint, bad input, metrics
// (parsed with a real Prometheus text parser), placement previews and the mutating-call rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import parsePrometheusTextFormat, { type PromFamily } from 'parse-prometheus-text-format'
import { register as globalRegistry } from 'prom-client'
import { startHttpApi, isLoopback, type HttpApi } from '../../src/node/http-api.ts'
import { createNodeMetrics } from '../../src/node/metrics.ts'
import type {
  CoverageJson, LogsJson, NetworkInfoJson, PeerRow, PeersJson, PlanJoinJson, PlanLeaveJson, RouteJson, StatusJson
} from '../../src/node/api/types.ts'
import { BLOCKS, call, rawGet, startApiSwarm, waitFor, type ApiSwarm } from './helpers.ts'
import { nodePlannerMismatches, plannerSettingsOf } from '../../src/node/planner-check.ts'
import { PLANNER_REVISION } from '../../src/protocols/coverage/index.ts'

let s: ApiSwarm
const extraApis: HttpApi[] = []

beforeAll(async () => {
  s = await startApiSwarm()
})
afterAll(async () => {
  for (const a of extraApis) await a.close().catch(() => {})
  await s?.stop()
})

function expectError (r: { status: number, body: unknown }, status: number, match: RegExp): void {
  expect(r.status).toBe(status)
  const body = r.body as { error?: unknown }
  expect(typeof body.error).toBe('string')
  expect(String(body.error)).toMatch(match)
}

describe('read endpoints', () => {
  it('GET /v1/health', async () => {
    const r = await call<{ ok: boolean, peerId: string }>(s.base, '/v1/health')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toMatch(/^application\/json/)
    expect(r.body.ok).toBe(true)
    expect(r.body.peerId).toBe(s.node.peerId)
  })

  it('GET /v1 lists the endpoints', async () => {
    const r = await call<{ endpoints: Array<{ method: string, path: string, description: string }> }>(s.base, '/v1')
    expect(r.status).toBe(200)
    const paths = r.body.endpoints.map(e => `${e.method} ${e.path}`)
    for (const p of ['GET /v1/health', 'GET /v1/status', 'GET /v1/network/info', 'GET /v1/network/coverage', 'GET /v1/network/plan', 'GET /v1/peers', 'GET /v1/route', 'GET /v1/logs', 'GET /v1/events', 'GET /metrics', 'POST /v1/stop', 'GET /']) {
      expect(paths).toContain(p)
    }
    for (const e of r.body.endpoints) expect(e.description.length).toBeGreaterThan(5)
  })

  it('GET /v1/status describes this node', async () => {
    const r = await call<StatusJson>(s.base, '/v1/status')
    expect(r.status).toBe(200)
    const st = r.body
    expect(st.peerId).toBe(s.node.peerId)
    expect(st.addresses.length).toBeGreaterThan(0)
    expect(st.role).toBe('server')
    expect(st.state).toBe('online')
    expect(st.span).toEqual({ start: 0, end: 8 })
    expect(st.spanText).toBe('0:8')
    expect(st.uptimeMs).toBeGreaterThan(0)
    expect(st.restarts).toBe(0)
    expect(st.petalsBackend).toBeNull()
    expect(st.loadingPercent).toBeNull()
    expect(st.swarmMembers).toBe(3)
    expect(st.model).toBe('sim-model')
    expect(st.plannerMismatches).toEqual([]) // every server of the test swarm plans alike
  })

  it('GET /v1/network/info', async () => {
    const r = await call<NetworkInfoJson>(s.base, '/v1/network/info')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ model: 'sim-model', totalBlocks: BLOCKS, onlineNodes: 4, coveragePercent: 100, readyForInference: true, minReplication: 1, liveMembers: 4, replicationTarget: 1 })
    expect(Array.isArray(r.body.bootstrapPeers)).toBe(true)
    expect(r.body.avgReplication).toBeCloseTo((8 + 8 + 8 + 16) / 24, 2)
  })

  it('GET /v1/network/coverage gives servers, throughput and replication per block', async () => {
    const r = await call<CoverageJson>(s.base, '/v1/network/coverage')
    expect(r.status).toBe(200)
    const cov = r.body
    expect(cov.blocks).toHaveLength(BLOCKS)
    expect(cov.missing).toEqual([])
    const [n0, n1, n2, n3] = s.swarm.nodes.map(n => n.peerId)
    expect(cov.blocks[0]).toMatchObject({ block: 0, replication: 1, servers: [n0], throughput: 100 })
    expect(new Set(cov.blocks[5].servers)).toEqual(new Set([n0, n3]))
    expect(cov.blocks[5].throughput).toBe(100 + 130)
    expect(new Set(cov.blocks[12].servers)).toEqual(new Set([n1, n3]))
    expect(cov.blocks[23]).toMatchObject({ replication: 1, servers: [n2] })
    for (const b of cov.blocks) expect(b.replication).toBe(b.servers.length)
  })

  it('GET /v1/peers is the swarm table, with this node as selfRow', async () => {
    const r = await call<PeersJson>(s.base, '/v1/peers')
    expect(r.status).toBe(200)
    expect(r.body.selfRow).toMatchObject({ peerId: s.node.peerId, self: true, liveness: 'self', state: 'online', spanText: '0:8' })
    expect(r.body.peers).toHaveLength(3)
    const byId = new Map(r.body.peers.map(p => [p.peerId, p]))
    for (const [i, n] of s.swarm.nodes.entries()) {
      if (i === 0) continue
      const row = byId.get(n.peerId)
      expect(row).toMatchObject({ self: false, liveness: 'alive', state: 'online', throughput: 100 + 10 * i })
      expect(row?.lastHeardMsAgo).toBeLessThan(5000)
    }
    const filtered = await call<PeersJson>(s.base, '/v1/peers?liveness=offline,left')
    expect(filtered.body.peers).toEqual([])
  })

  it('GET /v1/peers/{peerId} gives one row', async () => {
    const other = s.swarm.nodes[3].peerId
    const r = await call<PeerRow>(s.base, `/v1/peers/${other}`)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ peerId: other, span: { start: 4, end: 20 } })
    const me = await call<PeerRow>(s.base, `/v1/peers/${s.node.peerId}`)
    expect(me.body.self).toBe(true)
    expectError(await call(s.base, '/v1/peers/12D3KooWNotAMember'), 404, /no member/)
  })

  it('GET /v1/route computes a route over the whole model in both modes', async () => {
    for (const mode of ['min-latency', 'max-throughput'] as const) {
      const r = await call<RouteJson>(s.base, `/v1/route?mode=${mode}&measure=false`)
      expect(r.status).toBe(200)
      expect(r.body.ok).toBe(true)
      expect(r.body.mode).toBe(mode)
      const hops = r.body.route?.hops ?? []
      expect(hops.length).toBeGreaterThan(0)
      expect(hops[0].span.start).toBe(0)
      expect(hops[hops.length - 1].span.end).toBe(BLOCKS)
      for (let i = 1; i < hops.length; i++) expect(hops[i].span.start).toBe(hops[i - 1].span.end)
    }
    // Default mode, with RTT measurement (pings the servers).
    const d = await call<RouteJson>(s.base, '/v1/route')
    expect(d.body).toMatchObject({ ok: true, mode: 'min-latency' })
  })

  it('GET /v1/logs works with no log source and filters lines', async () => {
    const r = await call<LogsJson>(s.base, '/v1/logs')
    expect(r.status).toBe(200)
    expect(Array.isArray(r.body.lines)).toBe(true)
    expect(r.body.lines.some(l => /HTTP API listening/.test(l.text))).toBe(true)
    const none = await call<LogsJson>(s.base, '/v1/logs?source=petals')
    expect(none.body.lines).toEqual([])
  })

  it('GET /v1/logs merges an external source by time, filters by source, level, since and limit', async () => {
    const t = Date.now()
    const lines = [
      { ts: t - 3000, source: 'petals' as const, level: 'info', text: 'Loaded block 0' },
      { ts: t - 2000, source: 'petals' as const, level: 'warn', text: 'slow network' },
      { ts: t - 1000, source: 'bridge' as const, level: 'error', text: 'petals exited with code 1' }
    ]
    const api = await startHttpApi(s.node, { host: '127.0.0.1', port: 0, processMetrics: false, logLines: () => lines, eventLog: false })
    extraApis.push(api)
    const base = api.url.replace(/\/$/, '')
    const all = await call<LogsJson>(base, '/v1/logs')
    expect(all.body.lines.map(l => l.text)).toEqual(['Loaded block 0', 'slow network', 'petals exited with code 1'])
    expect(all.body.total).toBe(3)
    expect((await call<LogsJson>(base, '/v1/logs?source=petals')).body.lines).toHaveLength(2)
    expect((await call<LogsJson>(base, '/v1/logs?level=warn')).body.lines.map(l => l.level)).toEqual(['warn', 'error'])
    expect((await call<LogsJson>(base, `/v1/logs?since=${t - 1500}`)).body.lines).toHaveLength(1)
    expect((await call<LogsJson>(base, '/v1/logs?limit=1')).body.lines.map(l => l.text)).toEqual(['petals exited with code 1'])
  })

  it('serves the dashboard at / with its assets and a strict CSP', async () => {
    const page = await fetch(s.base + '/')
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/)
    const html = await page.text()
    expect(html).toMatch(/coverage-map/)
    for (const asset of ['/dashboard/app.js', '/dashboard/style.css', '/dashboard/favicon.svg']) {
      const res = await fetch(s.base + asset)
      expect(res.status, asset).toBe(200)
      await res.arrayBuffer()
    }
    // No external resources: the page works offline.
    expect(html).not.toMatch(/https?:\/\//)
    expectError(await call(s.base, '/dashboard/../http-api.ts'), 404, /no such/)
    expectError(await call(s.base, '/dashboard/%2e%2e%2fhttp-api.ts'), 404, /no such/)
  })
})

describe('bad input', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['/v1/route?mode=fast', 400, /mode must be one of min-latency, max-throughput/],
    ['/v1/route?measure=maybe', 400, /measure must be true or false/],
    ['/v1/route?mod=min-latency', 400, /unknown query parameter "mod"/],
    ['/v1/route?mode=min-latency&mode=max-throughput', 400, /more than once/],
    ['/v1/status?verbose=1', 400, /takes no parameters/],
    ['/v1/health?x=1', 400, /unknown query parameter/],
    ['/v1/network/plan', 400, /capacity is required/],
    ['/v1/network/plan?capacity=0', 400, /capacity must be an integer between 1 and/],
    ['/v1/network/plan?capacity=abc', 400, /capacity must be an integer/],
    ['/v1/network/plan?capacity=1.5', 400, /capacity must be an integer/],
    ['/v1/network/plan?capacity=4&throughput=-3', 400, /throughput must be a number between 0 and/],
    ['/v1/network/plan?capacity=4&throughput=fast', 400, /throughput must be a number/],
    ['/v1/network/plan?capacity=4&leave=x', 400, /either capacity .* or leave/],
    ['/v1/network/plan?leave=', 400, /leave must be a peer id/],
    ['/v1/network/plan?leave=12D3KooWNobody', 404, /no member/],
    ['/v1/logs?limit=0', 400, /limit must be an integer between 1 and 2000/],
    ['/v1/logs?limit=99999', 400, /limit must be an integer/],
    ['/v1/logs?source=kernel', 400, /source: "kernel" is not one of petals, bridge, node/],
    ['/v1/logs?level=loud', 400, /level must be one of/],
    ['/v1/logs?since=yesterday', 400, /since must be an integer/],
    ['/v1/peers?liveness=zombie', 400, /liveness: "zombie" is not one of alive, suspect, offline, left/],
    ['/v1/peers?liveness=', 400, /liveness must list/],
    ['/v1/events?lastEventId=-1', 400, /lastEventId must be an integer/],
    ['/v1/nope', 404, /no such endpoint: GET \/v1\/nope/],
    ['/nope', 404, /no such endpoint/],
    ['/v2/status', 404, /no such endpoint/]
  ]
  for (const [path, status, match] of cases) {
    it(`GET ${path} → ${status}`, async () => {
      const r = await call(s.base, path)
      expect(r.headers.get('content-type')).toMatch(/^application\/json/)
      expectError(r, status, match)
    })
  }

  it('a wrong method gets 405 with Allow', async () => {
    const r = await call(s.base, '/v1/status', { method: 'POST' })
    expectError(r, 405, /POST is not allowed on \/v1\/status/)
    expect(r.headers.get('allow')).toBe('GET')
    const g = await call(s.base, '/v1/stop')
    expectError(g, 405, /GET is not allowed/)
    expect(g.headers.get('allow')).toBe('POST')
  })

  it('refuses requests whose Host is not a loopback name (DNS rebinding)', async () => {
    const r = await rawGet(s.base, '/v1/status', { host: 'evil.example:80' })
    expect(r.status).toBe(403)
    expect(JSON.parse(r.body).error).toMatch(/not a loopback name/)
    const ok = await rawGet(s.base, '/v1/health', { host: 'localhost:1234' })
    expect(ok.status).toBe(200)
  })
})

describe('placement preview', () => {
  it('?capacity=C&throughput=T: where a new node would go and what coverage would become', async () => {
    const r = await call<PlanJoinJson>(s.base, '/v1/network/plan?capacity=8&throughput=250')
    expect(r.status).toBe(200)
    const p = r.body
    expect(p.kind).toBe('join')
    expect(p.candidate).toEqual({ capacity: 8, throughput: 250 })
    expect(p.decision.action).toBe('serve')
    if (p.decision.action === 'serve') {
      expect(p.decision.span.end - p.decision.span.start).toBe(8)
      expect(p.decision.span.start).toBeGreaterThanOrEqual(0)
      expect(p.decision.span.end).toBeLessThanOrEqual(BLOCKS)
    }
    expect(p.before).toMatchObject({ coveragePercent: 100, onlineNodes: 4, minReplication: 1 })
    expect(p.after.onlineNodes).toBe(5)
    expect(p.after.avgReplication).toBeGreaterThan(p.before.avgReplication)
    // Throughput defaults to this node's configured throughput.
    const d = await call<PlanJoinJson>(s.base, '/v1/network/plan?capacity=100')
    expect(d.body.candidate).toEqual({ capacity: 100, throughput: 100 })
  })

  it('?leave=PEERID: the hole a departure opens and the healing the planner orders', async () => {
    const leaving = s.swarm.nodes[2].peerId // 16:24, sole server of blocks 20-23
    const r = await call<PlanLeaveJson>(s.base, `/v1/network/plan?leave=${leaving}`)
    expect(r.status).toBe(200)
    const p = r.body
    expect(p.kind).toBe('leave')
    expect(p.member).toMatchObject({ peerId: leaving, spanText: '16:24' })
    expect(p.before.coveragePercent).toBe(100)
    expect(p.afterLeave.missing).toEqual([{ start: 20, end: 24 }])
    expect(p.afterLeave.readyForInference).toBe(false)
    expect(p.actions.length).toBeGreaterThan(0)
    expect(p.actions.some(a => a.decision.action === 'serve' && a.decision.reason === 'heal')).toBe(true)
    expect(p.afterHeal.coveragePercent).toBe(100)
    // This node itself may be the one leaving.
    const me = await call<PlanLeaveJson>(s.base, `/v1/network/plan?leave=${s.node.peerId}`)
    expect(me.body.afterLeave.missing).toEqual([{ start: 0, end: 4 }])
  })
})

function family (families: PromFamily[], name: string): PromFamily {
  const f = families.find(x => x.name === name)
  if (f == null) throw new Error(`metric ${name} missing`)
  return f
}
function value (families: PromFamily[], name: string, labels: Record<string, string> = {}): number {
  const f = family(families, name)
  const sample = f.metrics.find(m => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  if (sample?.value == null) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`)
  return Number(sample.value)
}

describe('/metrics', () => {
  it('is valid Prometheus text with the health.petals.dev names and petalmesh metrics', async () => {
    // Counters below need at least one heartbeat from a peer (one heartbeat period after start).
    expect(await waitFor(() => s.node.membership.stats.received.heartbeats > 0, 10_000)).not.toBeNull()
    const res = await fetch(s.base + '/metrics')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const families = parsePrometheusTextFormat(await res.text())
    const model = 'sim-model'
    expect(value(families, 'n_blocks', { model })).toBe(BLOCKS)
    expect(value(families, 'servers_num', { model })).toBe(4)
    expect(value(families, 'blocks_online_min', { model })).toBe(1)
    expect(value(families, 'blocks_total', { model })).toBe(8 + 8 + 8 + 16)
    expect(value(families, 'petalmesh_planner_mismatched_peers')).toBe(0)
    expect(value(families, 'blocks', { model, state: 'online' })).toBe(40)
    expect(value(families, 'blocks', { model, state: 'loading' })).toBe(0)
    expect(family(families, 'blocks').type).toBe('GAUGE')
    expect(value(families, 'petalmesh_swarm_members', { liveness: 'alive' })).toBe(3)
    expect(value(families, 'petalmesh_swarm_members', { liveness: 'offline' })).toBe(0)
    expect(value(families, 'petalmesh_coverage_ratio')).toBe(1)
    expect(value(families, 'petalmesh_ready_for_inference')).toBe(1)
    expect(value(families, 'petalmesh_replication_min')).toBe(1)
    expect(value(families, 'petalmesh_replication_avg')).toBeCloseTo(40 / 24, 5)
    expect(value(families, 'petalmesh_node_state', { state: 'online' })).toBe(1)
    expect(value(families, 'petalmesh_node_state', { state: 'loading' })).toBe(0)
    expect(value(families, 'petalmesh_peer_state', { peer: s.swarm.nodes[1].peerId, state: 'online' })).toBe(1)
    expect(value(families, 'petalmesh_info', { peer_id: s.node.peerId })).toBe(1)
    expect(family(families, 'petalmesh_gossip_messages_received_total').type).toBe('COUNTER')
    expect(value(families, 'petalmesh_gossip_messages_received_total', { kind: 'heartbeat' })).toBeGreaterThan(0)
    expect(value(families, 'petalmesh_gossip_messages_published_total', { kind: 'record' })).toBeGreaterThan(0)
    expect(value(families, 'petalmesh_gossip_messages_rejected_total')).toBe(0)
    expect(value(families, 'petalmesh_wire_bytes_total', { direction: 'in' })).toBeGreaterThan(0)
    expect(value(families, 'petalmesh_wire_bytes_total', { direction: 'out' })).toBeGreaterThan(0)
    expect(family(families, 'petalmesh_wire_protocol_bytes_total').metrics.length).toBeGreaterThan(0)
    expect(value(families, 'petalmesh_heartbeat_delay_seconds')).toBeGreaterThanOrEqual(0)
    expect(value(families, 'petalmesh_tokens_served_total')).toBe(0)
    expect(value(families, 'petalmesh_petals_restarts_total')).toBe(0)
    expect(value(families, 'petalmesh_uptime_seconds')).toBeGreaterThan(0)
    // Process metrics are off in this API (processMetrics: false).
    expect(families.some(f => f.name.startsWith('process_') || f.name.startsWith('nodejs_'))).toBe(false)
  })

  it('counters only go up between scrapes, and hooks count moves and restarts', async () => {
    const scrape = async (): Promise<PromFamily[]> => parsePrometheusTextFormat(await (await fetch(s.base + '/metrics')).text())
    const a = await scrape()
    s.api.metrics.negotiationMove('heal')
    s.api.metrics.negotiationMove('rebalance', 2)
    s.api.metrics.petalsRestart()
    await new Promise(resolve => setTimeout(resolve, 1200))
    const b = await scrape()
    expect(value(b, 'petalmesh_negotiation_moves_total', { reason: 'heal' })).toBe(1)
    expect(value(b, 'petalmesh_negotiation_moves_total', { reason: 'rebalance' })).toBe(2)
    expect(value(b, 'petalmesh_petals_restarts_total')).toBe(1)
    const hbA = value(a, 'petalmesh_gossip_messages_received_total', { kind: 'heartbeat' })
    const hbB = value(b, 'petalmesh_gossip_messages_received_total', { kind: 'heartbeat' })
    expect(hbB).toBeGreaterThan(hbA)
    expect(hbB).toBeLessThanOrEqual(s.node.membership.stats.received.heartbeats)
    const status = await call<StatusJson>(s.base, '/v1/status')
    expect(status.body.restarts).toBe(1)
  })

  it('uses a registry per node, never the global default one; process metrics when asked', async () => {
    const other = createNodeMetrics(s.swarm.nodes[1], { processMetrics: true })
    try {
      const families = parsePrometheusTextFormat(await other.render())
      expect(value(families, 'petalmesh_info', { peer_id: s.swarm.nodes[1].peerId })).toBe(1)
      expect(family(families, 'petalmesh_info').metrics).toHaveLength(1)
      expect(families.some(f => f.name === 'process_cpu_user_seconds_total')).toBe(true)
      expect(families.some(f => f.name === 'nodejs_eventloop_lag_seconds')).toBe(true)
    } finally {
      other.close()
    }
    expect(globalRegistry.getSingleMetric('petalmesh_info')).toBeUndefined()
    expect(globalRegistry.getSingleMetric('n_blocks')).toBeUndefined()
    expect((await globalRegistry.getMetricsAsJSON()).length).toBe(0)
  })

  it('reports the Petals backend when a source is given', async () => {
    const api = await startHttpApi(s.node, {
      host: '127.0.0.1',
      port: 0,
      processMetrics: false,
      petals: () => ({ state: 'loading', restarts: 2, loading: { done: 3, total: 12 }, lastError: { kind: 'cuda-oom', message: 'CUDA out of memory', hint: 'lower the span' } })
    })
    extraApis.push(api)
    const base = api.url.replace(/\/$/, '')
    const st = await call<StatusJson>(base, '/v1/status')
    expect(st.body.petalsBackend).toMatchObject({ state: 'loading', restarts: 2, loading: { done: 3, total: 12 } })
    expect(st.body.restarts).toBe(2)
    expect(st.body.loadingPercent).toBe(25)
    const families = parsePrometheusTextFormat(await (await fetch(base + '/metrics')).text())
    expect(value(families, 'petalmesh_petals_restarts_total')).toBe(2)
    expect(value(families, 'petalmesh_petals_up')).toBe(0)
  })
})

describe('POST /v1/stop', () => {
  it('refuses cross-site browser requests even on loopback', async () => {
    const a = await call(s.base, '/v1/stop', { method: 'POST', headers: { origin: 'http://evil.example' } })
    expectError(a, 403, /origin http:\/\/evil.example/)
    const b = await call(s.base, '/v1/stop', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' } })
    expectError(b, 403, /cross-site/)
    expect(s.node.libp2p.status).toBe('started')
  })

  it('needs the bearer token when the API requires one (as beyond loopback), then stops the node', async () => {
    const extra = await s.swarm.add({ span: '0:24' })
    const api = await startHttpApi(extra, { host: '127.0.0.1', port: 0, processMetrics: false, requireToken: true, token: 's3cret-token' })
    extraApis.push(api)
    const base = api.url.replace(/\/$/, '')
    const none = await call(base, '/v1/stop', { method: 'POST' })
    expectError(none, 401, /Authorization: Bearer/)
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expectError(await call(base, '/v1/stop', { method: 'POST', headers: { authorization: 'Bearer wrong' } }), 401, /invalid API token/)
    expectError(await call(base, '/v1/stop', { method: 'POST', headers: { authorization: 'Basic czNjcmV0' } }), 401, /Bearer/)
    expect(extra.libp2p.status).toBe('started')
    const ok = await call<{ stopping: boolean }>(base, '/v1/stop', { method: 'POST', headers: { authorization: 'Bearer s3cret-token' } })
    expect(ok.status).toBe(200)
    expect(ok.body.stopping).toBe(true)
    await extra.stopped
    expect(extra.libp2p.status).toBe('stopped')
  })

  it('is disabled when a token is required but none is configured', async () => {
    const api = await startHttpApi(s.node, { host: '127.0.0.1', port: 0, processMetrics: false, requireToken: true })
    extraApis.push(api)
    expectError(await call(api.url.replace(/\/$/, ''), '/v1/stop', { method: 'POST', headers: { authorization: 'Bearer anything' } }), 403, /no API token is configured/)
  })

  it('isLoopback tells loopback binds from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false)
  })

  it('on loopback without a token, stops the node (what `petalmesh stop` does)', async () => {
    const extra = await s.swarm.add({ span: '0:24' })
    const api = await startHttpApi(extra, { host: '127.0.0.1', port: 0, processMetrics: false })
    const ok = await call<{ stopping: boolean }>(api.url.replace(/\/$/, ''), '/v1/stop', { method: 'POST' })
    expect(ok.body.stopping).toBe(true)
    await extra.stopped
    await api.close()
    // The first node saw it leave gracefully.
    expect(await waitFor(() => s.node.membership.view.get(extra.peerId)?.liveness === 'left', 10_000)).not.toBeNull()
  })
})

describe('servers that plan differently', () => {
  it('are listed in /v1/status and counted in /metrics, with what differs', async () => {
    // n3 announces another minGain and an older planner revision; n2 announces no settings at all,
    // as a server of a release older than the field would. They change after joining, as a peer that
    // restarts into another release does: the new records must reach the others' views.
    const odd = await startApiSwarm()
    const [n0, n1, n2, n3] = odd.swarm.nodes
    const base = plannerSettingsOf(n0.config.swarm)
    await n3.membership.updateSelf({ planner: { ...base, minGain: 0.2, revision: PLANNER_REVISION - 1 } })
    await n2.membership.updateSelf({ planner: null })
    expect(await waitFor(() => nodePlannerMismatches(n0).length === 2, 10_000)).not.toBeNull()
    try {
      const st = (await call<StatusJson>(odd.base, '/v1/status')).body
      const byPeer = new Map(st.plannerMismatches.map(m => [m.peerId, m.differs]))
      expect(byPeer.size).toBe(2)
      expect(byPeer.get(n3.peerId)).toEqual([
        `planner revision ${PLANNER_REVISION} here, ${PLANNER_REVISION - 1} there (a different petalmesh release)`,
        'minGain 0.01 here, 0.2 there'
      ])
      expect(byPeer.get(n2.peerId)).toEqual(['planner settings not announced there (petalmesh older than planner revision 1)'])
      expect(st.plannerMismatches.every(m => m.version !== '')).toBe(true)
      const families = parsePrometheusTextFormat(await (await fetch(odd.base + '/metrics')).text())
      expect(value(families, 'petalmesh_planner_mismatched_peers')).toBe(2)
      // n1 plans like n0: from n1's side only n2 and n3 differ too (and n0 does not).
      expect(await waitFor(() => nodePlannerMismatches(n1).length === 2, 10_000)).not.toBeNull()
      expect(nodePlannerMismatches(n1).map(m => m.peerId).sort()).toEqual([n2.peerId, n3.peerId].sort())
    } finally {
      await odd.stop()
    }
  })
})
