// Rate limits on what peers send us: gossip per sending peer and per author, inbound streams per
// peer and protocol. Token buckets (rate-limit.ts); the caller decides what an excess costs.
import type { Libp2p, Stream, Connection, StreamHandler } from '@libp2p/interface'
import { RateLimiter } from './rate-limit.ts'

export type GossipKind = 'records' | 'heartbeats' | 'obituaries'

/** null: within limits. Otherwise why, and whether to reject (penalise the sender) or merely ignore. */
export type GossipVerdict = null | { reason: string, ignore: boolean }

export interface GossipLimitOptions {
  /** Messages/s per topic from one connected peer (relays included); burst twice that. */
  perPeer: number
  /** Messages/s per kind from one author; burst twice that. */
  perAuthor: number
}

export class GossipLimits {
  private readonly perPeer: RateLimiter
  private readonly perAuthor: RateLimiter
  constructor (readonly opts: GossipLimitOptions) {
    this.perPeer = new RateLimiter({ ratePerSec: opts.perPeer, burst: Math.max(1, 2 * opts.perPeer) })
    this.perAuthor = new RateLimiter({ ratePerSec: opts.perAuthor, burst: Math.max(1, 2 * opts.perAuthor) })
  }

  /** Before decoding: the connected peer that delivered a message on `topic`. */
  checkPeer (topic: 'records' | 'heartbeats', peer: string, now: number): GossipVerdict {
    if (this.perPeer.take(`${topic}:${peer}`, now)) return null
    return { reason: `rate limit: more than ${this.opts.perPeer} ${topic} messages/s from this peer`, ignore: false }
  }

  /**
   * After decoding: the message's author. An author over its limit is penalised only when it
   * delivered the message itself; an honest relay forwarding it is not to blame.
   */
  checkAuthor (kind: GossipKind, author: string, deliveredBy: string, now: number): GossipVerdict {
    if (this.perAuthor.take(`${kind}:${author}`, now)) return null
    return { reason: `rate limit: more than ${this.opts.perAuthor} ${kind}/s from this author`, ignore: author !== deliveredBy }
  }
}

export class StreamRateLimitError extends Error {
  constructor (protocol: string, peer: string, perSec: number) {
    super(`too many ${protocol} streams from ${peer} (limit ${perSec}/s)`)
    this.name = 'StreamRateLimitError'
  }
}

/**
 * Rate-limits inbound streams of `protocols`: every handler registered for them (now or later, by
 * any module) is wrapped so that streams beyond `perSec` per peer and protocol (burst twice that)
 * are reset before the handler sees them.
 *
 * Why not libp2p's stream middleware (`libp2p.use`): in libp2p 3.3 the connection appends the
 * handler to the registrar's own middleware array on every inbound stream, so with middleware set
 * each later stream runs every earlier handler again (seen here as honest snapshot requests failing).
 */
export function limitInboundStreams (libp2p: Pick<Libp2p, 'handle'>, protocols: readonly string[], opts: {
  perSec: number
  now?: () => number
  onExceed?: (peer: string, protocol: string) => void
  /** An admitted inbound stream our handler aborted (bad or missing input): the handler's verdict, for accounting. */
  onAbort?: (peer: string, protocol: string, err: Error) => void
}): RateLimiter {
  const limiter = new RateLimiter({ ratePerSec: opts.perSec, burst: Math.max(1, 2 * opts.perSec) })
  const now = opts.now ?? Date.now
  const guarded = new Set(protocols)
  const original = libp2p.handle.bind(libp2p)
  const wrap = (handler: StreamHandler): StreamHandler => (stream: Stream, connection: Connection) => {
    const peer = connection.remotePeer.toString()
    const protocol = stream.protocol ?? ''
    if (!limiter.take(`${protocol}:${peer}`, now())) {
      opts.onExceed?.(peer, protocol)
      stream.abort(new StreamRateLimitError(protocol, peer, opts.perSec))
      return
    }
    if (opts.onAbort != null) {
      const onAbort = opts.onAbort
      stream.addEventListener('close', (evt) => {
        if (evt.error != null && evt.local === true) onAbort(peer, protocol, evt.error)
      }, { once: true })
    }
    return handler(stream, connection)
  }
  libp2p.handle = async (protocol, handler, options) => {
    const list = Array.isArray(protocol) ? protocol : [protocol]
    await original(protocol, list.some(p => guarded.has(p)) ? wrap(handler) : handler, options)
  }
  return limiter
}
