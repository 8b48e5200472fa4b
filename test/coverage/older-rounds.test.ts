// A newcomer waits for older rounds that can still change what is fixed under its own round.
import { describe, expect, it } from 'vitest'
import { olderRoundOutstanding, planSpan, resolveClaims, type PlanMember } from '../../src/protocols/coverage/index.ts'
import type { Span } from '../../src/protocols/types.ts'
import { member } from './helpers.ts'

const L = 12
const settleMs = 1000

function claim (m: PlanMember, span: Span, since: number): PlanMember {
  return { ...m, state: 'joining', span, since }
}

describe('older rounds outstanding', () => {
  const me = member('me', 4, 100, 'joining', null, 2000) // round 3000
  const view = (members: PlanMember[]): Parameters<typeof olderRoundOutstanding>[0] => ({ totalBlocks: L, replication: 1, members: [...members, me], now: 3000 })

  it('waits for a newcomer of an older round that has not claimed yet, not for one of a later round', () => {
    expect(olderRoundOutstanding(view([member('old', 6, 100, 'joining', null, 1500)]), 'me', 3000, settleMs)).toBe(true)
    expect(olderRoundOutstanding(view([member('same', 6, 100, 'joining', null, 2000)]), 'me', 3000, settleMs)).toBe(false)
    expect(olderRoundOutstanding(view([member('later', 6, 100, 'joining', null, 2500)]), 'me', 3000, settleMs)).toBe(false)
  })

  it('waits for the claimant of an older round whose claim lost (its re-claim can still be older than our round)', () => {
    // Two claimants of round 1000 planned without seeing each other and took the same blocks.
    const a = claim(member('a', 6, 100), { start: 0, end: 6 }, 1000)
    const b = claim(member('b', 6, 100), { start: 0, end: 6 }, 1000)
    const { losers } = resolveClaims({ totalBlocks: L, replication: 1, members: [a, b], now: 3000 })
    expect(losers.length).toBe(1)
    expect(olderRoundOutstanding(view([a, b]), 'me', 3000, settleMs)).toBe(true)
    // The loser re-plans before its lost claim + settle: its re-claim is dated by the slot it
    // plans in (no round), older than ours, so it is judged before our round.
    const loser = [a, b].find(m => m.peerId === losers[0])!
    const d = planSpan({ totalBlocks: L, replication: 1, self: loser, members: [a, b, me], now: 1500 })
    expect(d.action).toBe('serve')
    expect(d.action === 'serve' ? d.round : 'none').toBeUndefined()
    // Once it has re-claimed elsewhere, nothing older is outstanding.
    const reclaimed = claim(loser, { start: 6, end: 12 }, 1500)
    const winner = [a, b].find(m => m.peerId !== losers[0])!
    expect(olderRoundOutstanding(view([winner, { ...reclaimed, prev: { state: 'joining', span: { start: 0, end: 6 } } }]), 'me', 3000, settleMs)).toBe(false)
  })

  it('does not wait for older claims that stand, nor for its own claim', () => {
    const a = claim(member('a', 6, 100), { start: 0, end: 6 }, 1000)
    const b = claim(member('b', 6, 100), { start: 6, end: 12 }, 1000)
    expect(olderRoundOutstanding(view([a, b]), 'me', 3000, settleMs)).toBe(false)
    const mine = claim(me, { start: 0, end: 4 }, 1000)
    expect(olderRoundOutstanding({ totalBlocks: L, replication: 1, members: [a, b, mine], now: 3000 }, 'me', 3000, settleMs)).toBe(false)
  })
})
