// Counts the bytes each node really sends and receives on its connections (after Noise and
// yamux framing), for the simulator's control-plane cost figures and the node's /metrics.
// It plugs into libp2p's `metrics` slot; every other metric call is delegated or dropped.
import type { Metrics, MultiaddrConnection, Stream } from '@libp2p/interface'

export interface WireCounts {
  sent: number
  received: number
  /** Application bytes per negotiated protocol (gossipsub, kad-dht, snapshot...). */
  byProtocol: Map<string, { sent: number, received: number }>
}

interface Countable {
  dispatchEvent: (evt: Event) => boolean
  send: (buf: Uint8Array | { byteLength: number }) => boolean
}

function track (target: Countable, add: (dir: 'sent' | 'received', n: number) => void): void {
  // Observe dispatched messages without adding a 'message' listener: a listener would make the
  // stream deliver buffered data before the real reader attaches (see @libp2p/prometheus-metrics).
  const dispatch = target.dispatchEvent.bind(target)
  target.dispatchEvent = (evt: Event) => {
    if (evt.type === 'message') add('received', (evt as MessageEvent<{ byteLength: number }>).data.byteLength)
    return dispatch(evt)
  }
  const send = target.send.bind(target)
  target.send = (buf) => {
    add('sent', buf.byteLength)
    return send(buf)
  }
}

const noop = new Proxy({}, { get: () => () => undefined })

/** A libp2p Metrics implementation that counts wire bytes, optionally delegating to another one. */
export function wireCounter (delegate?: Metrics): { metrics: Metrics, counts: WireCounts } {
  const counts: WireCounts = { sent: 0, received: 0, byProtocol: new Map() }
  const register = (kind: keyof Metrics) => (name: string, opts?: unknown): unknown => {
    if (delegate != null) return (delegate[kind] as (n: string, o?: unknown) => unknown)(name, opts)
    return (opts as { calculate?: unknown } | undefined)?.calculate != null ? undefined : noop
  }
  const metrics = {
    trackMultiaddrConnection (maConn: MultiaddrConnection): void {
      track(maConn as unknown as Countable, (dir, n) => { counts[dir] += n })
      delegate?.trackMultiaddrConnection(maConn)
    },
    trackProtocolStream (stream: Stream): void {
      const protocol = stream.protocol
      if (protocol != null) {
        let p = counts.byProtocol.get(protocol)
        if (p == null) { p = { sent: 0, received: 0 }; counts.byProtocol.set(protocol, p) }
        const entry = p
        track(stream as unknown as Countable, (dir, n) => { entry[dir] += n })
      }
      delegate?.trackProtocolStream(stream)
    },
    registerMetric: register('registerMetric'),
    registerMetricGroup: register('registerMetricGroup'),
    registerCounter: register('registerCounter'),
    registerCounterGroup: register('registerCounterGroup'),
    registerHistogram: register('registerHistogram'),
    registerHistogramGroup: register('registerHistogramGroup'),
    registerSummary: register('registerSummary'),
    registerSummaryGroup: register('registerSummaryGroup'),
    traceFunction: <F>(name: string, fn: F, opts?: unknown): F => delegate != null ? (delegate.traceFunction as (n: string, f: F, o?: unknown) => F)(name, fn, opts) : fn,
    createTrace: (): unknown => delegate?.createTrace()
  }
  return { metrics: metrics as unknown as Metrics, counts }
}
