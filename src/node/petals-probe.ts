// Claims that can be checked: a member that announces blocks online must answer on its announced
// Petals port. Each node probes (a TCP connect with a timeout) the Petals multiaddrs in the records
// of members that are ONLINE with a span, on change and every `intervalMs`, a few at a time. After
// `failures` failed probes in a row the member is flagged unreachable: routes leave it out, the API
// shows it, and the daemon counts it as misbehaviour (see trust.probe.penalty).
import { EventEmitter } from 'node:events'
import { connect } from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import type { SwarmView, Member } from './swarm-view.ts'

export interface ProbeSettings {
  timeoutMs: number
  intervalMs: number
  failures: number
  concurrency: number
}

export interface ProbeStatus {
  /** null until the first probe of the current claim finished. */
  reachable: boolean | null
  flagged: boolean
  consecutiveFailures: number
  lastProbeAt: number
  /** Why the last probe failed. */
  lastError: string | null
  /** What was probed (state, span and addresses): a change re-probes at once. */
  key: string
}

/** host:port pairs a multiaddr names over TCP (ip4, ip6, dns*), or null for anything else. */
export function tcpTarget (addr: string): { host: string, port: number } | null {
  try {
    const parts = multiaddr(addr).getComponents()
    const hostPart = parts[0]
    const tcp = parts[1]
    if (hostPart == null || tcp == null || tcp.name !== 'tcp' || hostPart.value == null || tcp.value == null) return null
    if (!['ip4', 'ip6', 'dns', 'dns4', 'dns6'].includes(hostPart.name)) return null
    const port = Number(tcp.value)
    if (!Number.isInteger(port) || port < 1 || port > 65535) return null
    return { host: hostPart.value, port }
  } catch {
    return null
  }
}

/** Resolves true when a TCP connection to host:port opens within `timeoutMs`. Never rejects. */
export async function tcpAnswers (host: string, port: number, timeoutMs: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean): void => { clearTimeout(timer); socket.destroy(); resolve(ok) }
    const timer = setTimeout(() => { done(false) }, timeoutMs)
    socket.once('connect', () => { done(true) })
    socket.once('error', () => { done(false) })
  })
}

/**
 * Members whose claim can be checked: alive, ONLINE, serving a span, and not behind a NAT. A member
 * whose record says it is reached through a relay cannot be dialled directly, and neither can its
 * Petals server (Petals reaches it through its own relay): probing it would flag and ban every
 * honest home server. Such members are left unverified (see docs/PROTOCOL.md, section 16).
 */
export function probeable (m: Member): boolean {
  return (m.liveness === 'alive' || m.liveness === 'suspect') && m.state === 'online' && m.record.span != null && m.record.reachability !== 'relayed'
}

function claimKey (m: Member): string {
  const span = m.record.span
  return `${m.state}|${span == null ? '-' : `${span.start}:${span.end}`}|${(m.record.petals?.multiaddrs ?? []).join(',')}`
}

interface ProberEvents {
  flagged: [string, ProbeStatus]
  cleared: [string, ProbeStatus]
}

export interface ProberOptions extends ProbeSettings {
  view: Pick<SwarmView, 'all' | 'get'>
  /** The probe itself (tests substitute one); default: TCP connect to any announced address. */
  probe?: (addrs: string[], timeoutMs: number) => Promise<{ ok: boolean, error: string | null }>
  now?: () => number
  /** How often the view is scanned for claims due a probe (default min(1000, intervalMs / 4)). */
  scanMs?: number
}

/** Probes up to 4 announced addresses in turn; the claim holds if any answers. */
export async function probePetalsAddrs (addrs: string[], timeoutMs: number): Promise<{ ok: boolean, error: string | null }> {
  const targets = addrs.map(tcpTarget).filter((t): t is { host: string, port: number } => t != null).slice(0, 4)
  if (targets.length === 0) return { ok: false, error: addrs.length === 0 ? 'no Petals address announced' : 'no TCP address among the announced Petals addresses' }
  for (const t of targets) {
    if (await tcpAnswers(t.host, t.port, timeoutMs)) return { ok: true, error: null }
  }
  return { ok: false, error: `no answer on ${targets.map(t => `${t.host}:${t.port}`).join(', ')}` }
}

export class PetalsProber extends EventEmitter<ProberEvents> {
  readonly stats = { probes: 0, failed: 0, flagged: 0 }
  private readonly status = new Map<string, ProbeStatus>()
  private readonly inFlight = new Set<string>()
  private readonly opts: ProberOptions
  private readonly now: () => number
  private timer: ReturnType<typeof setInterval> | undefined

  constructor (opts: ProberOptions) {
    super()
    this.opts = opts
    this.now = opts.now ?? Date.now
  }

  start (): void {
    if (this.timer != null) return
    this.timer = setInterval(() => { this.scan() }, this.opts.scanMs ?? Math.min(1000, Math.max(50, Math.floor(this.opts.intervalMs / 4))))
    this.timer.unref?.()
    this.scan()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Members currently flagged unreachable. */
  unreachable (): ReadonlySet<string> {
    const out = new Set<string>()
    for (const [peer, s] of this.status) if (s.flagged) out.add(peer)
    return out
  }

  statusOf (peer: string): ProbeStatus | undefined { return this.status.get(peer) }

  /** Waits (at most `timeoutMs`) until every probeable member has a verdict on its current claim. */
  async settled (timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs
    const pending = (): boolean => this.opts.view.all().some(m => {
      if (!probeable(m)) return false
      const s = this.status.get(m.peerId)
      return s == null || s.key !== claimKey(m) || (s.reachable === false && !s.flagged)
    })
    this.scan()
    while (pending()) {
      if (this.now() >= deadline) return false
      await new Promise(resolve => setTimeout(resolve, 25))
      this.scan()
    }
    return true
  }

  /** Starts the probes that are due (new or changed claims, retries, periodic re-checks). */
  scan (): void {
    const now = this.now()
    const seen = new Set<string>()
    for (const m of this.opts.view.all()) {
      seen.add(m.peerId)
      if (!probeable(m)) {
        // A member that stopped claiming has nothing to check; a flag it earned is dropped with the claim.
        const s = this.status.get(m.peerId)
        if (s != null) this.clear(m.peerId, s)
        continue
      }
      const key = claimKey(m)
      const s = this.status.get(m.peerId)
      const retryMs = Math.min(this.opts.intervalMs, 2 * this.opts.timeoutMs)
      const due = s == null || s.key !== key ||
        now - s.lastProbeAt >= (s.reachable === false && !s.flagged ? retryMs : this.opts.intervalMs)
      if (!due || this.inFlight.has(m.peerId) || this.inFlight.size >= this.opts.concurrency) continue
      void this.probeOne(m, key)
    }
    for (const [peer, s] of this.status) if (!seen.has(peer)) this.clear(peer, s)
  }

  private clear (peer: string, s: ProbeStatus): void {
    this.status.delete(peer)
    if (s.flagged) this.emit('cleared', peer, s)
  }

  private async probeOne (m: Member, key: string): Promise<void> {
    this.inFlight.add(m.peerId)
    try {
      const probe = this.opts.probe ?? probePetalsAddrs
      const res = await probe(m.record.petals?.multiaddrs ?? [], this.opts.timeoutMs).catch((err: unknown) => ({ ok: false, error: String(err) }))
      this.stats.probes++
      if (this.timer == null) return
      const prev = this.status.get(m.peerId)
      const sameClaim = prev != null && prev.key === key
      const failures = res.ok ? 0 : (sameClaim ? prev.consecutiveFailures : 0) + 1
      const flagged = !res.ok && failures >= this.opts.failures
      const s: ProbeStatus = { reachable: res.ok, flagged, consecutiveFailures: failures, lastProbeAt: this.now(), lastError: res.error, key }
      this.status.set(m.peerId, s)
      if (!res.ok) this.stats.failed++
      const wasFlagged = prev?.flagged === true
      if (flagged && (!wasFlagged || !sameClaim)) { this.stats.flagged++; this.emit('flagged', m.peerId, s) }
      if (!flagged && wasFlagged) this.emit('cleared', m.peerId, s)
    } finally {
      this.inFlight.delete(m.peerId)
    }
  }
}
