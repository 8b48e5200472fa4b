// The placement problem as a mixed-integer program, solved by HiGHS (the `highs` package: HiGHS
// compiled to WebAssembly), to check the planner against a *proven* bound where the LP bound of
// upper-bound.ts is loose. Offline tool only (sim/bound/cli.ts --mip): a solve takes seconds to
// minutes, and the planner itself never depends on it.
//
// Variables: x[i][s] ∈ {0,1} (node i serves the window starting at s), B ≥ 0. Maximise B subject to
//   Σ_s x[i][s] ≤ 1                      (each node one window, or none)
//   Σ_{i,s: b ∈ window} t_i x[i][s] ≥ B   (every block's load)
//   Σ_{i,s: b ∈ window} x[i][s] ≥ R       (every block's servers; only when R > 0)
// HiGHS's dual bound on B after its time limit is a valid upper bound on every placement's
// bottleneck (with R, on every placement meeting replication R); at status Optimal it equals the
// best placement's bottleneck.
import * as highsModule from 'highs'
import type { Highs } from 'highs'
import { usableLength } from '../../src/protocols/coverage/index.ts'

// The package's types describe an ES default export but are read as CommonJS here: take `default`.
const loadHighs = highsModule.default as unknown as () => Promise<Highs>

const STATUS: Record<number, string> = { 7: 'Optimal', 8: 'Infeasible', 13: 'Time limit reached' }

export interface MipNode { capacity: number, throughput: number }

export interface MipResult {
  /** HiGHS's model status, e.g. "Optimal" or "Time limit reached". */
  status: string
  /** The best placement's bottleneck HiGHS found (a lower bound on the optimum), or null. */
  best: number | null
  /** A proven upper bound on the bottleneck of every placement (meeting R). */
  dualBound: number
  ms: number
}

/** The model in CPLEX LP format (what HiGHS reads). */
export function placementLp (nodes: readonly MipNode[], totalBlocks: number, replication: number): string {
  const L = Math.floor(totalBlocks)
  const rows: string[] = []
  const binaries: string[] = []
  const load: string[][] = Array.from({ length: L }, () => [])
  const servers: string[][] = Array.from({ length: L }, () => [])
  nodes.forEach((n, i) => {
    const m = usableLength(n.capacity, L)
    if (m <= 0 || !(n.throughput > 0)) return
    const vars: string[] = []
    for (let s = 0; s + m <= L; s++) {
      const v = `x${i}_${s}`
      vars.push(v)
      binaries.push(v)
      for (let b = s; b < s + m; b++) { load[b].push(`${n.throughput} ${v}`); servers[b].push(v) }
    }
    rows.push(` one${i}: ${vars.join(' + ')} <= 1`)
  })
  // A block no node can reach: B ≤ 0 (and replication infeasible), which the rows below state.
  load.forEach((terms, b) => rows.push(` load${b}: ${terms.length > 0 ? terms.join(' + ') + ' - B' : '- B'} >= 0`))
  if (replication > 0) servers.forEach((terms, b) => rows.push(` servers${b}: ${terms.length > 0 ? terms.join(' + ') : '0 B'} >= ${replication}`))
  return `Maximize\n obj: B\nSubject To\n${rows.join('\n')}\nBounds\n B >= 0\n${binaries.length > 0 ? `Binary\n ${binaries.join(' ')}\n` : ''}End\n`
}

/** Solves the placement MIP within `seconds`. */
export async function solvePlacementMip (nodes: readonly MipNode[], totalBlocks: number, replication: number, seconds: number): Promise<MipResult> {
  const highs = await loadHighs()
  const model = highs.createModel({ format: 'lp', data: placementLp(nodes, totalBlocks, replication) })
  try {
    model.options.set('output_flag', false)
    model.options.set('time_limit', seconds)
    const t0 = Date.now()
    model.run()
    const code = model.getModelStatus()
    const status = STATUS[code] ?? `status ${code}`
    // Infeasible (replication R cannot be met): no placement qualifies, so 0 bounds them all.
    if (code === 8) return { status, best: null, dualBound: 0, ms: Date.now() - t0 }
    if (code !== 7 && code !== 13) throw new Error(`HiGHS could not solve the placement MIP: ${status}`)
    const hasSolution = Number(model.info.get('primal_solution_status')) === 2 // feasible
    const objective = model.getObjectiveValue()
    const dual = Number(model.info.get('mip_dual_bound'))
    return {
      status,
      best: hasSolution ? Math.round(objective * 1e6) / 1e6 : null,
      dualBound: code === 7 ? objective : dual,
      ms: Date.now() - t0
    }
  } finally {
    model.dispose()
  }
}
