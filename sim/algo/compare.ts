// Side-by-side runs of petalmesh and the Petals baseline on identical seeded swarms.
//   npx tsx sim/algo/compare.ts --nodes 1000 --blocks 80 [--scenarios cold-start,steady,...] [--seed 1]
//        [--duration-ms N] [--heartbeat-ms 5000] [--replication 2] [--min-gain F] [--cooldown-ms N] [--horizon-ms N] [--json]
// --min-gain / --cooldown-ms / --horizon-ms override petalmesh's planner parameters (defaults: DEFAULT_COVERAGE_PARAMS).
import { parseArgs } from 'node:util'
import type { SimResult } from '../types.ts'
import type { CoverageParams } from '../../src/protocols/coverage/index.ts'
import { runAlgoScenario } from './index.ts'

function num (name: string, v: string): number {
  const x = Number(v)
  if (!Number.isFinite(x) || x < 0) throw new Error(`--${name} must be a non-negative number, got ${JSON.stringify(v)}`)
  return x
}

const FIELDS: Array<keyof SimResult> = [
  'converged', 'fullCoverageMs', 'replicationMs', 'duplicateClaims', 'moves', 'movesPerNodePerHour',
  'detectMs', 'healMs', 'availability', 'bottleneckRatio', 'bytesPerNodePerSec', 'wallMs'
]

function replication (v: string): number {
  const r = Number(v)
  if (!Number.isInteger(r) || r < 1) throw new Error(`--replication must be an integer >= 1, got ${JSON.stringify(v)}`)
  return r
}

function cell (v: unknown): string {
  if (v === null || v === undefined) return '-'
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 4 : 0)
  return String(v)
}

function main (): void {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '200' },
      blocks: { type: 'string', default: '80' },
      seed: { type: 'string', default: '1' },
      scenarios: { type: 'string', default: 'cold-start,steady,join,crash,leave,churn' },
      'duration-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      replication: { type: 'string', default: '2' },
      'min-gain': { type: 'string' },
      'cooldown-ms': { type: 'string' },
      'horizon-ms': { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  const coverage: Partial<CoverageParams> = {}
  if (values['min-gain'] != null) coverage.minGain = num('min-gain', values['min-gain'])
  if (values['cooldown-ms'] != null) coverage.cooldownMs = num('cooldown-ms', values['cooldown-ms'])
  if (values['horizon-ms'] != null) coverage.horizonMs = num('horizon-ms', values['horizon-ms'])
  const results: SimResult[] = []
  for (const scenario of values.scenarios.split(',')) {
    const r = runAlgoScenario({
      scenario,
      nodes: Number(values.nodes),
      blocks: Number(values.blocks),
      seed: Number(values.seed),
      baseline: true,
      durationMs: values['duration-ms'] != null ? Number(values['duration-ms']) : undefined,
      heartbeatMs: values['heartbeat-ms'] != null ? Number(values['heartbeat-ms']) : undefined,
      replication: replication(values.replication),
      coverage
    })
    results.push(r)
    if (!values.json) {
      console.log(`\n${scenario}: ${r.nodes} nodes, ${r.blocks} blocks, seed ${r.seed}, heartbeat ${r.heartbeatMs} ms`)
      console.log(`  ${'field'.padEnd(20)} ${'petalmesh'.padStart(12)} ${'petals'.padStart(12)}`)
      for (const f of FIELDS) console.log(`  ${f.padEnd(20)} ${cell(r[f]).padStart(12)} ${cell(r.baseline?.[f]).padStart(12)}`)
    }
  }
  if (values.json) console.log(JSON.stringify(results))
}

try {
  main()
} catch (err) {
  console.error(`error: ${(err as Error).message}`)
  process.exit(2)
}
