import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { planSpan, planSwarm, resolveClaims, type PlanMember } from '../../src/protocols/coverage/index.ts'
import type { Span } from '../../src/protocols/types.ts'
import { heteroSwarm, member, online, shuffled } from './helpers.ts'

const L = 12

function claim (m: PlanMember, span: Span, since: number): PlanMember {
  return { ...m, state: 'joining', span, since }
}

describe('claim conflicts', () => {
  it('two nodes that planned without seeing each other: exactly one keeps the contested span', () => {
    const a = member('a', 6, 100, 'joining', null, 0)
    const b = member('b', 6, 100, 'joining', null, 0)
    // Each planned alone (the other's announcement still in flight): both pick blocks 0-6.
    const da = planSpan({ totalBlocks: L, replication: 1, self: a, members: [], now: 2000 })
    const db = planSpan({ totalBlocks: L, replication: 1, self: b, members: [], now: 2000 })
    expect(da).toEqual(db)
    if (da.action !== 'serve') throw new Error('expected a claim')
    const view = [claim(a, da.span, 2000), claim(b, da.span, 2000)]
    const r1 = resolveClaims({ totalBlocks: L, replication: 1, members: view, now: 3000 })
    const r2 = resolveClaims({ totalBlocks: L, replication: 1, members: shuffled(view, 4), now: 3000 })
    expect(r1).toEqual(r2)
    expect(r1.winners.length).toBe(1)
    expect(r1.losers.length).toBe(1)
    // The loser re-plans at once, onto the blocks nobody serves; the winner stays.
    const loser = view.find(m => m.peerId === r1.losers[0])!
    const winner = view.find(m => m.peerId === r1.winners[0])!
    expect(planSpan({ totalBlocks: L, replication: 1, self: winner, members: view, now: 3000 })).toEqual({ action: 'stay' })
    expect(planSpan({ totalBlocks: L, replication: 1, self: loser, members: view, now: 3000 }))
      .toEqual({ action: 'serve', span: { start: 6, end: 12 }, reason: 'claim-lost', round: 3000 })
  })

  it('an older claim beats a newer one, whatever the peer ids', () => {
    const old = claim(member('zzz', 6, 100), { start: 0, end: 6 }, 1000)
    const late = claim(member('aaa', 6, 100), { start: 0, end: 6 }, 2250)
    const r = resolveClaims({ totalBlocks: L, replication: 1, members: [late, old], now: 3000 })
    expect(r.winners).toEqual(['zzz'])
    expect(r.losers).toEqual(['aaa'])
  })

  it('a late-arriving claim never unseats a settled older one', () => {
    const a = claim(member('a', 6, 100), { start: 0, end: 6 }, 1000)
    expect(resolveClaims({ totalBlocks: L, replication: 1, members: [a], now: 1500 }).winners).toEqual(['a'])
    for (const id of ['0', 'b', 'zz']) {
      const late = claim(member(id, 6, 100), { start: 0, end: 6 }, 1250)
      expect(resolveClaims({ totalBlocks: L, replication: 1, members: [a, late], now: 2000 })).toEqual({ winners: ['a'], losers: [id] })
    }
  })

  it('within one round, the planner order decides and a near-equal claim is kept', () => {
    // Same cohort, same blocks: one loses.
    const a = claim(member('a', 6, 100), { start: 0, end: 6 }, 1000)
    const b = claim(member('b', 6, 100), { start: 0, end: 6 }, 1000)
    expect(resolveClaims({ totalBlocks: L, replication: 1, members: [a, b], now: 2000 }).losers.length).toBe(1)
    // x, a and b as fast as each other on 12 blocks of two halves: stacking a and b on 6-12 is as good
    // as spreading them (one half gets 100 either way), so nobody has to move.
    const x = online('x', 0, 6, 100)
    const a2 = claim(member('a', 6, 100), { start: 6, end: 12 }, 1000)
    const b2 = claim(member('b', 6, 100), { start: 6, end: 12 }, 1000)
    expect(resolveClaims({ totalBlocks: L, replication: 1, members: [x, a2, b2], now: 2000 }).losers).toEqual([])
  })

  it('claims of vanished or stalled claimants expire', () => {
    const stale = claim(member('ghost', 6, 50), { start: 0, end: 6 }, 0)
    const d = planSpan({ totalBlocks: L, replication: 1, self: member('a', 6, 50, 'joining', null, 0), members: [stale], now: 60_000, params: { claimTtlMs: 30_000 } })
    expect(d).toEqual({ action: 'serve', span: { start: 0, end: 6 }, reason: 'join' }) // its round is long past: dated now
    const r = resolveClaims({ totalBlocks: L, replication: 1, members: [stale], now: 60_000, params: { claimTtlMs: 30_000 } })
    expect(r).toEqual({ winners: [], losers: [] })
    // The stalled claimant itself, if still alive, starts over.
    expect(planSpan({ totalBlocks: L, replication: 1, self: stale, members: [], now: 60_000, params: { claimTtlMs: 30_000 } }).action).toBe('serve')
  })

  it('stacking is not a conflict when the plan wants it', () => {
    // x is twice as fast as a or b: the best plan puts both a and b on 6-12.
    const base = [online('x', 0, 6, 100)]
    const view = [...base, claim(member('a', 6, 50), { start: 6, end: 12 }, 1000), claim(member('b', 6, 50), { start: 6, end: 12 }, 1000)]
    expect(resolveClaims({ totalBlocks: L, replication: 1, members: view, now: 2000 }).losers).toEqual([])
  })

  it('claims made from one shared view never conflict (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 8, max: 120 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 1000 }), (n, blocks, R, seed) => {
      const established = heteroSwarm(Math.floor(n / 2), blocks, seed).map((m, i) => {
        const len = Math.min(blocks, Math.floor(m.capacity))
        const start = (i * 5) % (blocks - len + 1)
        return { ...m, state: 'online' as const, span: { start, end: start + len }, since: -Infinity }
      })
      const pending = heteroSwarm(n - established.length, blocks, seed + 1).map(m => ({ ...m, peerId: `q${m.peerId}`, since: 0 }))
      const view = [...established, ...pending]
      const plan = planSwarm({ totalBlocks: blocks, replication: R, members: view, now: 5000 })
      const claimed = view.map(m => {
        const d = plan.decisions.get(m.peerId)!
        return d.action === 'serve' && m.state === 'joining' ? { ...m, span: d.span, since: 5000, prev: { state: 'joining' as const, span: null } } : m
      })
      expect(resolveClaims({ totalBlocks: blocks, replication: R, members: claimed, now: 6250 }).losers).toEqual([])
      // And in the next round the settled claimants are told to stay.
      const next = planSwarm({ totalBlocks: blocks, replication: R, members: claimed, now: 6250 })
      for (const m of pending) expect(next.decisions.get(m.peerId)).toEqual({ action: 'stay' })
    }), { numRuns: 60, seed: 5 })
  })
})

describe('a cohort member that goes offline', () => {
  // A cold start's cohort: every node planned the same joint layout and claimed its slot. Then one
  // of them crashes, right after the cohort settled, while a validator still sees the others'
  // claims (their commits not arrived yet) or some of them committed.
  function cohort (seed: number): { members: PlanMember[], round: number } {
    const pending = heteroSwarm(20, 48, seed)
    const plan = planSwarm({ totalBlocks: 48, replication: 2, members: pending, now: 1000 })
    const round = 500 // the join epoch 0 + the default round lead
    const members = pending.map(m => {
      const d = plan.decisions.get(m.peerId)
      return d?.action === 'serve' ? { ...m, state: 'joining' as const, span: d.span, since: round, prev: { state: 'joining' as const, span: null } } : m
    })
    return { members, round }
  }

  it('does not make the rest of its cohort lose (the re-run of the round puts it back as it was)', () => {
    for (const seed of [1, 2, 3]) {
      const { members } = cohort(seed)
      expect(resolveClaims({ totalBlocks: 48, replication: 2, members, now: 1200 }).losers).toEqual([])
      for (let v = 0; v < members.length; v += 3) {
        if (members[v].span == null) continue
        // Some of the cohort committed already (as the validator sees it), the victim among them or not.
        const view = members.map((m, i): PlanMember => i === v ? { ...m, state: 'offline' } : i % 2 === 0 && m.span != null ? { ...m, state: 'loading' } : m)
        const r = resolveClaims({ totalBlocks: 48, replication: 2, members: view, now: 1200 })
        expect(r.losers).toEqual([])
        expect(r.winners).not.toContain(members[v].peerId) // a gone member's claim is not judged
        // What the validator plans: heals for what the victim left missing, no re-placed claims.
        const plan = planSwarm({ totalBlocks: 48, replication: 2, members: view, now: 1200 })
        for (const a of plan.actions) if (a.decision.action === 'serve') expect(a.decision.reason).toBe('heal')
      }
    }
  })
})
