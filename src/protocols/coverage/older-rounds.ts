// Whether a newcomer must still wait for older rounds before it claims (or commits early): what an
// older round will still fix under its own round is not settled yet in its view.
import { resolveClaims, type ClaimsView } from './claims.ts'

/**
 * True if, in `view`, an older round than `round` is still outstanding for `self`:
 * - a newcomer of an older round is still pending (it is pending in our layout, and its claim,
 *   when it comes, is judged before ours); or
 * - the claim of an older round lost: its claimant re-claims, dated its lost claim + settle or the
 *   slot it re-plans in if that is sooner, so possibly still older than our round, and that claim,
 *   judged before ours, is not what we planned around (we placed it as a loser being re-planned).
 */
export function olderRoundOutstanding (view: ClaimsView, self: string, round: number, roundLeadMs: number): boolean {
  const others = view.members.filter(m => m.peerId !== self && m.state === 'joining')
  if (others.some(m => m.span == null && (m.since ?? -Infinity) + roundLeadMs < round)) return true
  const olderClaims = others.filter(m => m.span != null && (m.since ?? -Infinity) < round)
  if (olderClaims.length === 0) return false
  const losers = new Set(resolveClaims(view).losers)
  return olderClaims.some(m => losers.has(m.peerId))
}
