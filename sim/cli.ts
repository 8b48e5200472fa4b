// `npm run sim -- --scenario NAME --nodes N [--transport memory|tcp|none] [--seed S] [--json]`
import { Command, Option, CommanderError } from 'commander'
import { runNetScenario, type NetScenario, type NetResult } from './net/run.ts'
import { runProcessScenario } from './net/procs.ts'
import { runNegotiated } from './net/negotiated.ts'
import { runAdversarial, ADVERSARY_SCENARIOS, type AdversaryScenario, type AdversarialResult } from './net/adversarial.ts'

const NET_SCENARIOS: readonly string[] = ['cold-start', 'join', 'steady', 'heal', 'churn', 'partition', 'crash', 'leave', 'discovery', 'liveness', ...ADVERSARY_SCENARIOS]

interface SimFlags {
  scenario: string
  nodes: string
  blocks?: string
  transport: 'memory' | 'tcp' | 'none'
  seed: string
  heartbeatMs?: string
  maxHeartbeatRate?: string
  k?: string
  runs: string
  replication?: string
  baseline?: boolean
  json?: boolean
  cooldownMs?: string
}

function int (name: string, v: string, min: number): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new SimUsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  return n
}

class SimUsageError extends Error {}

function positive (name: string, v: string): number {
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new SimUsageError(`--${name} must be a number > 0, got ${JSON.stringify(v)}`)
  return n
}

function median (xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x != null).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = Math.floor(v.length / 2)
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** Medians of numeric fields over repeated runs; booleans must hold in every run. */
export function medianResult (runs: NetResult[]): NetResult {
  const out: Record<string, unknown> = { ...runs[0] }
  for (const key of Object.keys(runs[0]) as Array<keyof NetResult>) {
    if (key === 'series') continue
    const v = runs[0][key]
    if (typeof v === 'number' || v === null) out[key] = median(runs.map(r => r[key] as number | null))
    if (typeof v === 'boolean') out[key] = runs.every(r => r[key] === true)
  }
  if (runs.length > 1) out.runs = runs.length
  return out as unknown as NetResult
}

function withoutSeries (r: NetResult): Record<string, unknown> {
  const { series: _series, ...rest } = r
  return rest as Record<string, unknown>
}

function summary (r: Record<string, unknown>): string {
  const lines = [`scenario ${String(r.scenario)}: ${String(r.nodes)} nodes, ${String(r.blocks)} blocks, transport ${String(r.transport)}, seed ${String(r.seed)}`]
  for (const [k, v] of Object.entries(r)) {
    if (['scenario', 'nodes', 'blocks', 'transport', 'seed'].includes(k) || v === null || typeof v === 'object') continue
    lines.push(`  ${k.padEnd(20)} ${String(v)}`)
  }
  if (r.baseline != null && typeof r.baseline === 'object') {
    lines.push('  baseline (Petals planner):')
    for (const [k, v] of Object.entries(r.baseline as Record<string, unknown>)) if (v !== null && typeof v !== 'object') lines.push(`    ${k.padEnd(18)} ${String(v)}`)
  }
  return lines.join('\n')
}

export async function simMain (argv: string[]): Promise<number> {
  const program = new Command('sim')
    .description('run a simulated petalmesh swarm scenario')
    .requiredOption('--scenario <name>', 'scenario name')
    .option('--nodes <n>', 'number of nodes', '20')
    .option('--blocks <n>', 'number of model blocks (default: the number of nodes, at least 24)')
    .addOption(new Option('--transport <t>', 'memory (in-process), tcp (one OS process per node on loopback) or none (algorithm level)').choices(['memory', 'tcp', 'none']).default('memory'))
    .option('--seed <s>', 'random seed', '1')
    .option('--heartbeat-ms <ms>', 'heartbeat period')
    .option('--max-heartbeat-rate <r>', 'swarm-wide heartbeats per second (swarm.maxHeartbeatRate; crash, leave, steady, discovery)')
    .option('--k <n>', 'nodes to crash or stop (crash, leave)', '1')
    .option('--runs <n>', 'repeat and report medians', '1')
    .option('--replication <r>', 'replication target (negotiated scenarios)', '2')
    .option('--baseline', 'also run the Petals baseline planner on the same seed')
    .option('--cooldown-ms <ms>', 'swarm.cooldownMs of every node (negotiated scenarios; crash/leave then also wait for the rebalancer)')
    .option('--json', 'print one JSON object')
    .exitOverride()
  let flags: SimFlags
  try {
    program.parse(argv, { from: 'user' })
    flags = program.opts<SimFlags>()
  } catch (err) {
    return err instanceof CommanderError && err.exitCode === 0 ? 0 : 2
  }
  try {
    const nodes = int('nodes', flags.nodes, 1)
    const blocks = flags.blocks != null ? int('blocks', flags.blocks, 1) : Math.max(24, nodes)
    const seed = int('seed', flags.seed, 0)
    const runs = int('runs', flags.runs, 1)
    const heartbeatMs = flags.heartbeatMs != null ? int('heartbeat-ms', flags.heartbeatMs, 50) : 2000
    const maxHeartbeatRate = flags.maxHeartbeatRate != null ? positive('max-heartbeat-rate', flags.maxHeartbeatRate) : undefined
    let out: Record<string, unknown>
    if (flags.transport === 'none') {
      const algo = await import('./algo/index.ts')
      const results = []
      for (let r = 0; r < runs; r++) results.push(await algo.runAlgoScenario({ scenario: flags.scenario, nodes, blocks, seed: seed + r, heartbeatMs, baseline: flags.baseline === true }))
      out = results.length === 1 ? results[0] as unknown as Record<string, unknown> : medianResult(results as unknown as NetResult[]) as unknown as Record<string, unknown>
    } else {
      if (!NET_SCENARIOS.includes(flags.scenario)) {
        throw new SimUsageError(`scenario ${JSON.stringify(flags.scenario)} is not available on transport ${flags.transport}; choose one of ${NET_SCENARIOS.join(', ')} (or --transport none for the algorithm-level scenarios)`)
      }
      if ((ADVERSARY_SCENARIOS as readonly string[]).includes(flags.scenario)) {
        // One bad peer among nodes - 1 honest ones, all in this process (tcp = loopback TCP).
        const adv: AdversarialResult[] = []
        for (let r = 0; r < runs; r++) {
          adv.push(await runAdversarial({ scenario: flags.scenario as AdversaryScenario, nodes: int('nodes', flags.nodes, 3), blocks, seed: seed + r, transport: flags.transport, heartbeatMs }))
        }
        out = adv.length === 1 ? adv[0] as unknown as Record<string, unknown> : medianResult(adv) as unknown as Record<string, unknown>
        console.log(flags.json === true ? JSON.stringify(out) : summary(out))
        return 0
      }
      const results: NetResult[] = []
      // crash and leave with --baseline: the nodes negotiate their spans (with either planner), so
      // healing after the loss compares the two; without it, static spans (failure detection at scale).
      const negotiated = ['cold-start', 'join', 'steady', 'heal', 'churn', 'partition'].includes(flags.scenario) ||
        (flags.baseline === true && ['crash', 'leave'].includes(flags.scenario))
      if (negotiated) {
        const base = { nodes, blocks, transport: flags.transport, heartbeatMs, replication: int('replication', flags.replication ?? '2', 1), ...(flags.cooldownMs != null ? { cooldownMs: int('cooldown-ms', flags.cooldownMs, 0) } : {}) }
        const scenario = flags.scenario === 'heal' ? 'crash' as const : flags.scenario as 'cold-start' | 'steady' | 'crash' | 'leave' | 'join' | 'churn' | 'partition'
        const baselines: NetResult[] = []
        for (let r = 0; r < runs; r++) {
          results.push(await runNegotiated({ ...base, scenario, seed: seed + r, planner: 'petalmesh' }))
          if (flags.baseline === true) baselines.push(await runNegotiated({ ...base, scenario, seed: seed + r, planner: 'petals' }))
        }
        out = withoutSeries(medianResult(results))
        out.scenario = flags.scenario
        if (flags.baseline === true) out.baseline = { ...withoutSeries(medianResult(baselines)), scenario: flags.scenario }
        console.log(flags.json === true ? JSON.stringify(out) : summary(out))
        return 0
      }
      for (let r = 0; r < runs; r++) {
        const opts = { scenario: (flags.scenario === 'liveness' ? 'steady' : flags.scenario) as NetScenario, nodes, blocks, seed: seed + r, transport: flags.transport, heartbeatMs, k: int('k', flags.k ?? '1', 1), ...(maxHeartbeatRate != null ? { maxHeartbeatRate } : {}) }
        // tcp: one OS process per node (realism, real SIGKILL); memory: all nodes in this process (scale).
        results.push(flags.transport === 'tcp' && (opts.scenario === 'crash' || opts.scenario === 'leave') ? await runProcessScenario(opts) : await runNetScenario(opts))
      }
      out = medianResult(results) as unknown as Record<string, unknown>
      if (flags.baseline === true) out.baseline = null
    }
    console.log(flags.json === true ? JSON.stringify(out) : summary(out))
    return 0
  } catch (err) {
    if (err instanceof SimUsageError) {
      process.stderr.write(`sim: ${err.message}\n`)
      return 2
    }
    throw err
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const code = await simMain(process.argv.slice(2))
  process.exit(code)
}
