// /petalmesh/snapshot/1.0.0: one request, one response, both length-prefixed protobuf.
// A joining node or a client is complete after one round trip instead of waiting for heartbeats.
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { PROTOCOL_VERSION, PROTOCOL_MAJOR } from '../version.ts'
import { SnapshotRequest, SnapshotResponse } from '../membership/wire.ts'

export const SNAPSHOT_PROTOCOL = `/petalmesh/snapshot/${PROTOCOL_VERSION}`

export const SNAPSHOT_LIMITS = {
  maxRequestBytes: 1024,
  maxResponseBytes: 16 * 1024 * 1024,
  maxEntries: 50_000,
  timeoutMs: 5_000
} as const

export class SnapshotError extends Error {
  constructor (message: string, readonly peer?: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SnapshotError'
  }
}

/** Serves one snapshot request. Any bad input aborts the stream; nothing is thrown to libp2p's handler. */
export async function serveSnapshot (stream: Stream, answer: (req: SnapshotRequest) => SnapshotResponse, opts: { timeoutMs?: number, onReject?: (reason: string) => void } = {}): Promise<void> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? SNAPSHOT_LIMITS.timeoutMs)
  const lp = lpStream(stream, { maxDataLength: SNAPSHOT_LIMITS.maxRequestBytes })
  let req: SnapshotRequest
  try {
    req = SnapshotRequest.decode(await lp.read({ signal }))
  } catch (err) {
    opts.onReject?.(`bad snapshot request: ${(err as Error).message}`)
    stream.abort(err as Error)
    return
  }
  const res = req.protocol !== PROTOCOL_MAJOR
    ? { protocol: PROTOCOL_MAJOR, model: req.model, entries: [], error: `incompatible protocol ${req.protocol}; this peer speaks ${PROTOCOL_MAJOR}` }
    : answer(req)
  try {
    await lp.write(SnapshotResponse.encode(res), { signal })
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err as Error)
  }
}

/** Sends a request on an open stream and reads the bounded response. */
export async function fetchSnapshotOverStream (stream: Stream, req: SnapshotRequest, opts: { timeoutMs?: number } = {}): Promise<SnapshotResponse> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? SNAPSHOT_LIMITS.timeoutMs)
  const lp = lpStream(stream, { maxDataLength: SNAPSHOT_LIMITS.maxResponseBytes })
  try {
    await lp.write(SnapshotRequest.encode(req), { signal })
    const res = SnapshotResponse.decode(await lp.read({ signal }), { limits: { entries: SNAPSHOT_LIMITS.maxEntries } })
    await stream.close({ signal }).catch(() => {})
    if (res.error !== '') throw new SnapshotError(`peer refused snapshot: ${res.error}`)
    return res
  } catch (err) {
    stream.abort(err as Error)
    throw err instanceof SnapshotError ? err : new SnapshotError(`snapshot failed: ${(err as Error).message}`, undefined, { cause: err })
  }
}
