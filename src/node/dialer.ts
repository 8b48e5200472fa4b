// Keeps the node connected. libp2p's bootstrap module dials once and never retries, and gossipsub
// never dials at all, so a node that started before its bootstrap peer (or lost its network)
// would stay alone. This loop dials bootstrap addresses and known peers while the node has fewer
// connections than it wants, backing off while nothing answers.
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from 'pino'
import type { PetalmeshLibp2p } from './libp2p.ts'

export interface DialerOptions {
  bootstrap: string[]
  targetPeers: number
  baseMs: number
  maxMs?: number
  dialTimeoutMs?: number
  log: Logger
  /** Extra candidates to dial (e.g. members from the swarm view), best first. */
  candidates?: () => string[]
}

export interface Dialer {
  stop: () => void
  /** Run a round now and restart the backoff (after a network change, or when the view shows we are invisible). */
  kick: () => void
  /** Resolves after the first round finished. */
  firstRound: Promise<void>
}

function peerOf (addr: Multiaddr): string | undefined {
  return addr.getComponents().find(c => c.name === 'p2p')?.value
}

export function startDialer (libp2p: PetalmeshLibp2p, opts: DialerOptions): Dialer {
  const self = libp2p.peerId.toString()
  const boot = opts.bootstrap.map(s => multiaddr(s)).filter(a => peerOf(a) !== self)
  const maxMs = opts.maxMs ?? 60_000
  let delay = opts.baseMs
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false
  let running = false
  let aloneWarned = false
  let resolveFirst: () => void = () => {}
  const firstRound = new Promise<void>(resolve => { resolveFirst = resolve })

  if (boot.length === 0) {
    opts.log.info('no bootstrap peers configured: this node starts a new swarm; others join it with --bootstrap <one of this node\'s addresses>')
  }

  const dialOne = async (target: Multiaddr | string): Promise<boolean> => {
    try {
      const t = typeof target === 'string' ? peerIdFromString(target) : target
      await libp2p.dial(t, { signal: AbortSignal.timeout(opts.dialTimeoutMs ?? 5000) })
      return true
    } catch (err) {
      opts.log.debug({ target: target.toString(), err: (err as Error).message }, 'dial failed')
      return false
    }
  }

  const round = async (): Promise<void> => {
    if (stopped || running) return
    running = true
    try {
      const connected = new Set(libp2p.getPeers().map(String))
      if (connected.size < opts.targetPeers) {
        const bootTargets = boot.filter(a => { const p = peerOf(a); return p == null || !connected.has(p) })
        const bootOk = (await Promise.all(bootTargets.map(dialOne))).filter(Boolean).length
        // Known peers (swarm members, DHT contacts) spread our connections beyond the bootstrap hub,
        // which gossipsub needs: a star topology loses messages when the hub prunes its mesh.
        const now = new Set(libp2p.getPeers().map(String))
        const want = opts.targetPeers - now.size
        if (want > 0) {
          const known = [...(opts.candidates?.() ?? []), ...(await libp2p.peerStore.all()).map(p => p.id.toString())]
          const pick = [...new Set(known)].filter(p => p !== self && !now.has(p)).slice(0, want)
          await Promise.all(pick.map(dialOne))
        }
        const after = libp2p.getPeers().length
        if (after === 0 && boot.length > 0) {
          delay = Math.min(maxMs, delay * 2)
          if (!aloneWarned || delay >= maxMs) opts.log.warn({ bootstrap: opts.bootstrap, retryInMs: delay }, 'no bootstrap peer reachable: this node has no peers and is retrying')
          aloneWarned = true
        } else {
          if (aloneWarned && after > 0) opts.log.info({ peers: after }, 'connected to the swarm again')
          aloneWarned = false
          delay = opts.baseMs
          if (bootOk > 0) opts.log.debug({ bootOk }, 'bootstrap dials succeeded')
        }
      } else {
        delay = opts.baseMs
      }
    } finally {
      running = false
      resolveFirst()
    }
  }

  const schedule = (): void => {
    if (stopped) return
    if (timer != null) clearTimeout(timer) // one chain of rounds, even after kicks
    timer = setTimeout(() => { void round().finally(schedule) }, delay)
  }
  void round().finally(schedule)

  return {
    firstRound,
    stop: () => { stopped = true; if (timer != null) clearTimeout(timer); resolveFirst() },
    kick: () => {
      delay = opts.baseMs
      if (timer != null) clearTimeout(timer)
      void round().finally(schedule)
    }
  }
}
