import { describe, expect, it } from 'vitest'
import { Writable } from 'node:stream'
import pino from 'pino'
import { PLANNER_REVISION, plannerDifferences, type PlannerSettings } from '../../src/protocols/coverage/index.ts'
import { mismatchWarner, plannerConfigWarnings, type PlannerMismatch } from '../../src/node/planner-check.ts'
import { validateConfig } from '../../src/node/config.ts'

const mine: PlannerSettings = { revision: PLANNER_REVISION, name: 'petalmesh', settleMs: 1000, minGain: 0.01, reloadMs: 600_000, cooldownMs: 3_600_000 }

describe('planner settings', () => {
  it('agree with themselves, also after min_gain went through a 32-bit float', () => {
    expect(plannerDifferences({ settings: mine, replication: 2 }, { settings: { ...mine, minGain: Math.fround(0.01) }, replication: 2 })).toEqual([])
  })

  it('name every difference, with both values', () => {
    const theirs: PlannerSettings = { revision: PLANNER_REVISION + 1, name: 'petals', settleMs: 2000, minGain: 0.2, reloadMs: 60_000, cooldownMs: 0 }
    expect(plannerDifferences({ settings: mine, replication: 2 }, { settings: theirs, replication: 3 })).toEqual([
      'replication 2 here, 3 there',
      `planner revision ${PLANNER_REVISION} here, ${PLANNER_REVISION + 1} there (a different petalmesh release)`,
      'planner petalmesh here, petals there',
      'settleMs 1000 here, 2000 there',
      'minGain 0.01 here, 0.2 there',
      'reloadMs 600000 here, 60000 there',
      'cooldownMs 3600000 here, 0 there'
    ])
  })

  it('a server that announces none is older than the check', () => {
    expect(plannerDifferences({ settings: mine, replication: 2 }, { settings: null, replication: 2 })).toEqual(['planner settings not announced there (petalmesh older than planner revision 1)'])
  })
})

describe('mismatch warnings', () => {
  it('warn once per peer and set of differences', () => {
    const lines: Array<{ msg: string, peer: string, differs: string[] }> = []
    const sink = new Writable({ write (chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString())); cb() } })
    const warn = mismatchWarner(pino({ level: 'warn' }, sink))
    const a: PlannerMismatch = { peerId: 'A', publicName: '', version: '0.1.0', differs: ['minGain 0.01 here, 0.2 there'] }
    warn([a]); warn([a]); warn([a, { ...a, peerId: 'B' }])
    warn([{ ...a, differs: ['cooldownMs 3600000 here, 0 there'] }])
    expect(lines.map(l => [l.peer, l.differs[0]])).toEqual([['A', 'minGain 0.01 here, 0.2 there'], ['B', 'minGain 0.01 here, 0.2 there'], ['A', 'cooldownMs 3600000 here, 0 there']])
    expect(lines[0].msg).toMatch(/plans differently/)
  })
})

describe('planner config warnings', () => {
  it('warn about a cool-down shorter than a reload, on servers only', () => {
    const swarm = validateConfig({ bootstrap: [] }).swarm
    expect(plannerConfigWarnings(swarm)).toEqual([])
    expect(plannerConfigWarnings({ ...swarm, cooldownMs: 0 })).toEqual([expect.stringMatching(/swarm.cooldownMs \(0 ms\) is below swarm.reloadMs \(600000 ms\)/)])
    expect(plannerConfigWarnings({ ...swarm, cooldownMs: 0, role: 'client' })).toEqual([])
  })
})
