// One bad peer among honest nodes (the simulator's adversarial scenarios, smaller and shorter): the
// honest nodes stay up with correct views, refuse what the bad peer sends, disconnect it, and no
// route goes through it. Timing-sensitive under load: re-run alone before concluding anything.
import { describe, it, expect } from 'vitest'
import { runAdversarial, type AdversaryScenario } from '../../sim/net/adversarial.ts'

const base = { nodes: 6, blocks: 12, seed: 1, transport: 'memory' as const, attackMs: 4000 }

describe('hostile peers', () => {
  for (const scenario of ['flood', 'spoof', 'liar', 'garbage'] as AdversaryScenario[]) {
    it(`${scenario}: views stay correct, the bad peer is disconnected everywhere, routes avoid it`, async () => {
      const r = await runAdversarial({ ...base, scenario })
      expect(r.extra?.firstViolation ?? null, JSON.stringify(r)).toBeNull()
      expect(r.honestViewsCorrect).toBe(true)
      expect(r.extra?.honestUp).toBe(true)
      expect(r.disconnectMs, `every honest node disconnected the bad peer: ${JSON.stringify(r.extra)}`).not.toBeNull()
      expect(r.extra?.disconnectedBy).toBe(base.nodes - 1)
      expect(r.routesAvoidBadPeer).toBe(true)
      expect(r.extra?.clientRouteOk).toBe(true)
      expect(r.badMessagesTried).toBeGreaterThan(0)
      // Honest nodes never refuse or cut each other.
      expect(r.extra?.honestPeersDisconnected).toBe(0)
      expect(r.extra?.honestMessagesRefused).toBe(0)
      if (scenario === 'liar') {
        // Every message of the liar is well formed: the probe is what catches it.
        expect(r.extra?.flaggedUnreachableBy).toBe(base.nodes - 1)
      } else {
        expect(r.badMessagesRejected).toBeGreaterThan(0)
      }
    }, 60_000)
  }
})
