// /petalmesh/coverage/1.0.0: a claimant pushes its signed claim straight to a peer and gets back the
// signed records that overlap it. Only an accelerator: the same records travel by gossip, so nodes
// that cannot dial each other (NAT) still reach the same outcome, a gossip round later.
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { PROTOCOL_VERSION, PROTOCOL_MAJOR } from '../version.ts'
import { ClaimPush, ClaimReply } from '../membership/wire.ts'

export const COVERAGE_PROTOCOL = `/petalmesh/coverage/${PROTOCOL_VERSION}`

export const CLAIM_LIMITS = {
  maxPushBytes: 8 * 1024,
  maxReplyBytes: 4 * 1024 * 1024,
  maxEntries: 10_000,
  timeoutMs: 3_000
} as const

export async function serveClaim (stream: Stream, answer: (push: ClaimPush) => Promise<ClaimReply>, opts: { onReject?: (reason: string) => void } = {}): Promise<void> {
  const signal = AbortSignal.timeout(CLAIM_LIMITS.timeoutMs)
  const lp = lpStream(stream, { maxDataLength: CLAIM_LIMITS.maxPushBytes })
  let push: ClaimPush
  try {
    push = ClaimPush.decode(await lp.read({ signal }))
  } catch (err) {
    opts.onReject?.(`bad claim push: ${(err as Error).message}`)
    stream.abort(err as Error)
    return
  }
  const reply = push.protocol !== PROTOCOL_MAJOR
    ? { protocol: PROTOCOL_MAJOR, overlapping: [], error: `incompatible protocol ${push.protocol}; this peer speaks ${PROTOCOL_MAJOR}` }
    : await answer(push)
  try {
    await lp.write(ClaimReply.encode(reply), { signal })
    await stream.close({ signal })
  } catch (err) {
    stream.abort(err as Error)
  }
}

export async function pushClaimOverStream (stream: Stream, push: ClaimPush): Promise<ClaimReply> {
  const signal = AbortSignal.timeout(CLAIM_LIMITS.timeoutMs)
  const lp = lpStream(stream, { maxDataLength: CLAIM_LIMITS.maxReplyBytes })
  try {
    await lp.write(ClaimPush.encode(push), { signal })
    const reply = ClaimReply.decode(await lp.read({ signal }), { limits: { overlapping: CLAIM_LIMITS.maxEntries } })
    await stream.close({ signal }).catch(() => {})
    return reply
  } catch (err) {
    stream.abort(err as Error)
    throw err
  }
}
