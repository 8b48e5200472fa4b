// `npm run bench`: the standard suite (sizes that finish in a few minutes on 2 cores). Writes
// bench/results.json and one SVG chart per negotiated scenario (coverage over time, petalmesh vs
// the Petals baseline on the same seed).
import { mkdir, writeFile } from 'node:fs/promises'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNegotiated, type NegotiatedOptions } from './net/negotiated.ts'
import { runNetScenario, type NetResult } from './net/run.ts'
import { runAdversarial, ADVERSARY_SCENARIOS } from './net/adversarial.ts'

const OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'bench')
const quick = process.argv.includes('--quick')
// 10,000 nodes at the algorithm level takes minutes by itself: opt in with --large.
const large = process.argv.includes('--large')

interface Row {
  scenario: string
  nodes: number
  transport: string
  petalmesh: NetResult
  baseline: NetResult | null
}

function strip (r: NetResult): NetResult {
  const { series: _s, ...rest } = r
  return rest
}

function svgChart (title: string, a: Array<[number, number]>, b: Array<[number, number]> | null): string {
  const W = 640
  const H = 280
  const pad = 44
  const maxT = Math.max(1, ...a.map(p => p[0]), ...(b ?? []).map(p => p[0]))
  const x = (t: number): number => pad + (t / maxT) * (W - 2 * pad)
  const y = (v: number): number => H - pad - (v / 100) * (H - 2 * pad)
  const path = (pts: Array<[number, number]>): string => pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')
  const ticks = [0, 0.25, 0.5, 0.75, 1].map(f => Math.round(f * maxT))
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${pad}" y="20" font-size="14" font-weight="bold">${title}</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#888"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#888"/>
${[0, 50, 100].map(v => `<text x="${pad - 6}" y="${y(v) + 4}" text-anchor="end">${v}%</text><line x1="${pad}" y1="${y(v)}" x2="${W - pad}" y2="${y(v)}" stroke="#eee"/>`).join('\n')}
${ticks.map(t => `<text x="${x(t)}" y="${H - pad + 16}" text-anchor="middle">${(t / 1000).toFixed(1)} s</text>`).join('\n')}
<text x="${W / 2}" y="${H - 6}" text-anchor="middle">time since the last node started</text>
<path d="${path(a)}" fill="none" stroke="#1a7f4b" stroke-width="2"/>
${b == null ? '' : `<path d="${path(b)}" fill="none" stroke="#c0392b" stroke-width="2" stroke-dasharray="6 4"/>`}
<rect x="${W - 230}" y="30" width="12" height="3" fill="#1a7f4b"/><text x="${W - 212}" y="35">petalmesh: blocks served (%)</text>
${b == null ? '' : `<rect x="${W - 230}" y="46" width="12" height="3" fill="#c0392b"/><text x="${W - 212}" y="51">Petals baseline</text>`}
</svg>
`
}

async function main (): Promise<void> {
  await mkdir(OUT, { recursive: true })
  const rows: Row[] = []
  const n = quick ? 12 : 20
  const negotiated: Array<Omit<NegotiatedOptions, 'planner'>> = [
    { scenario: 'cold-start', nodes: n, blocks: 48, seed: 1, transport: 'memory', heartbeatMs: 1000, replication: 2, timeoutMs: 40_000 },
    { scenario: 'crash', nodes: n, blocks: 48, seed: 2, transport: 'memory', heartbeatMs: 1000, replication: 2, timeoutMs: 40_000 },
    // The same crash in a swarm that has been up longer than its cool-down: the rebalancer may act.
    { scenario: 'crash', nodes: n, blocks: 48, seed: 2, transport: 'memory', heartbeatMs: 1000, replication: 2, timeoutMs: 40_000, cooldownMs: 5000 },
    { scenario: 'steady', nodes: n, blocks: 48, seed: 3, transport: 'memory', heartbeatMs: 1000, replication: 2, steadyMs: quick ? 5000 : 20_000, timeoutMs: 40_000 }
  ]
  for (const o of negotiated) {
    process.stderr.write(`bench: ${o.scenario} ${o.nodes} nodes (petalmesh, then the Petals baseline)\n`)
    const a = await runNegotiated({ ...o, planner: 'petalmesh' })
    const b = await runNegotiated({ ...o, planner: 'petals' })
    const name = o.scenario === 'crash' ? (o.cooldownMs != null ? 'heal-rebalance' : 'heal') : o.scenario
    rows.push({ scenario: name, nodes: o.nodes, transport: o.transport, petalmesh: strip({ ...a, scenario: name }), baseline: strip({ ...b, scenario: name }) })
    await writeFile(join(OUT, `${name}.svg`), svgChart(`${name}: ${o.nodes} nodes, ${o.blocks} blocks, replication ${o.replication}`, a.series ?? [], b.series ?? null))
  }
  for (const scenario of ['crash', 'leave', 'discovery'] as const) {
    process.stderr.write(`bench: ${scenario} ${n} nodes\n`)
    const r = await runNetScenario({ scenario, nodes: scenario === 'discovery' ? 30 : n, blocks: 48, seed: 1, transport: 'memory', heartbeatMs: 2000 })
    rows.push({ scenario, nodes: r.nodes, transport: 'memory', petalmesh: strip(r), baseline: null })
  }
  // One bad peer among 9 honest nodes, about 10 s each.
  for (const scenario of ADVERSARY_SCENARIOS) {
    process.stderr.write(`bench: adversarial ${scenario} 10 nodes\n`)
    const r = await runAdversarial({ scenario, nodes: 10, blocks: 24, seed: 1, transport: 'memory' })
    rows.push({ scenario, nodes: r.nodes, transport: 'memory', petalmesh: r, baseline: null })
  }
  try {
    const algo = await import('./algo/index.ts')
    for (const [scenario, nodes, blocks] of [['cold-start', 1000, 100], ['churn', 1000, 100], ['cold-start', 10_000, 1000]] as const) {
      if (nodes > 1000 && !large) continue
      process.stderr.write(`bench: algorithm-level ${scenario} ${nodes} nodes\n`)
      const r = await algo.runAlgoScenario({ scenario, nodes, blocks, seed: 1, heartbeatMs: 1000, baseline: true })
      const { baseline, ...pm } = r as unknown as NetResult & { baseline?: NetResult | null }
      rows.push({ scenario, nodes, transport: 'none', petalmesh: pm as NetResult, baseline: baseline ?? null })
    }
  } catch (err) {
    process.stderr.write(`bench: algorithm-level simulator unavailable: ${(err as Error).message}\n`)
  }
  await writeFile(join(OUT, 'results.json'), JSON.stringify({ date: new Date().toISOString(), quick, rows }, null, 2) + '\n')
  const fmt = (v: unknown): string => v == null ? '–' : typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : String(v)
  const metrics = ['fullCoverageMs', 'replicationMs', 'duplicateClaims', 'moves', 'detectMs', 'healMs', 'availability', 'bottleneckRatio', 'routeMs', 'bytesPerNodePerSec',
    'honestViewsCorrect', 'badMessagesTried', 'badMessagesRejected', 'disconnectMs', 'routesAvoidBadPeer'] as Array<keyof NetResult>
  const lines = ['| scenario | N | transport | metric | petalmesh | Petals baseline | ratio |', '|---|---|---|---|---|---|---|']
  for (const r of rows) {
    for (const m of metrics) {
      const a = r.petalmesh[m] as number | null
      const b = r.baseline?.[m] as number | null | undefined
      if (a == null && b == null) continue
      const ratio = a != null && b != null && b !== 0 ? fmt(a / b) : '–'
      lines.push(`| ${r.scenario} | ${r.nodes} | ${r.transport} | ${m} | ${fmt(a)} | ${fmt(b)} | ${ratio} |`)
    }
  }
  await writeFile(join(OUT, 'results.md'), lines.join('\n') + '\n')
  process.stdout.write(lines.join('\n') + '\n')
}

await main()
process.exit(0)
