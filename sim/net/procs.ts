// The simulator's realistic mode: every node is a separate `petalmesh start` process on loopback
// TCP, observed only through its HTTP API, and crashes are real SIGKILLs.
import { execa, type ResultPromise } from 'execa'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { rng } from '../swarm.ts'
import { staticSpan, type NetResult, type NetRunOptions } from './run.ts'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

interface Proc {
  index: number
  dataDir: string
  child: ResultPromise
  api: string
  peerId: string
  addr: string
  killed: boolean
}

interface PeerRow { peerId: string, liveness: string }

async function getJson<T> (url: string): Promise<T | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) })
    return res.ok ? await res.json() as T : null
  } catch {
    return null
  }
}

async function startProc (index: number, bootstrap: string[], o: NetRunOptions, root: string): Promise<Proc> {
  const dataDir = join(root, `node-${index}`)
  const args = [
    join(ROOT, 'bin', 'petalmesh.js'), 'start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0',
    '--log-format', 'json', '--log-level', 'warn', '--blocks', String(o.blocks), '--span', staticSpan(index, o.nodes, o.blocks),
    '--set', `swarm.heartbeatMs=${o.heartbeatMs}`, '--set', `swarm.suspectAfterMs=${Math.round(o.heartbeatMs * 2.5)}`,
    '--set', `swarm.offlineAfterMs=${o.heartbeatMs * 5}`, '--set', 'network.redialMs=500', '--set', 'petals.backend=simulated',
    ...bootstrap.flatMap(b => ['--bootstrap', b])
  ]
  const child = execa(process.execPath, args, { reject: false, stdio: ['ignore', 'ignore', 'pipe'] })
  let info: { url: string } | null = null
  const deadline = Date.now() + 30_000
  while (info == null && Date.now() < deadline) {
    try { info = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8')) as { url: string } } catch { await new Promise(resolve => setTimeout(resolve, 100)) }
  }
  if (info == null) {
    child.kill('SIGKILL')
    throw new Error(`node ${index} did not start within 30 s`)
  }
  const status = await getJson<{ peerId: string, addresses: string[] }>(`${info.url}v1/status`)
  if (status == null) throw new Error(`node ${index} API did not answer`)
  return { index, dataDir, child, api: info.url, peerId: status.peerId, addr: status.addresses[0], killed: false }
}

/** Crash/leave scenarios with one OS process per node. */
export async function runProcessScenario (o: NetRunOptions): Promise<NetResult> {
  const t0 = Date.now()
  const root = await mkdtemp(join(tmpdir(), 'petalmesh-sim-'))
  const procs: Proc[] = []
  const result: NetResult = {
    scenario: o.scenario, nodes: o.nodes, blocks: o.blocks, seed: o.seed, transport: 'tcp', heartbeatMs: o.heartbeatMs,
    converged: false, fullCoverageMs: null, replicationMs: null, duplicateClaims: null, moves: null, movesPerNodePerHour: null,
    detectMs: null, healMs: null, availability: null, bottleneckRatio: null, routeMs: null, bytesPerNodePerSec: null, rssMbPerNode: null, wallMs: 0
  }
  try {
    procs.push(await startProc(0, [], o, root))
    // Start the rest in parallel, each bootstrapping from the first node (the redial loop and the
    // DHT spread connections beyond it).
    procs.push(...await Promise.all(Array.from({ length: o.nodes - 1 }, async (_, j) => await startProc(j + 1, [procs[0].addr], o, root))))
    const views = async (): Promise<Map<string, PeerRow[]>> => {
      const live = procs.filter(p => !p.killed)
      const rows = await Promise.all(live.map(async p => [p.peerId, (await getJson<{ peers: PeerRow[] }>(`${p.api}v1/peers`))?.peers ?? []] as const))
      return new Map(rows)
    }
    let complete = false
    const deadline = Date.now() + (o.timeoutMs ?? 60_000)
    while (!complete && Date.now() < deadline) {
      const v = await views()
      complete = [...v.values()].every(rows => rows.filter(r => r.liveness === 'alive').length === o.nodes - 1)
      if (!complete) await new Promise(resolve => setTimeout(resolve, 200))
    }
    result.converged = complete
    result.fullCoverageMs = complete ? Date.now() - t0 : null
    if (!complete) return result

    const random2 = rng(o.seed + 17)
    const k = Math.max(1, Math.min(o.k ?? 1, o.nodes - 2))
    const victims: Proc[] = []
    while (victims.length < k) {
      const pick = procs[Math.floor(random2() * procs.length)]
      if (!victims.includes(pick)) victims.push(pick)
    }
    const victimIds = new Set(victims.map(v => v.peerId))
    const tk = Date.now()
    for (const v of victims) {
      v.killed = true
      v.child.kill(o.scenario === 'crash' ? 'SIGKILL' : 'SIGTERM')
    }
    let detected = false
    const detDeadline = Date.now() + (o.timeoutMs ?? 60_000)
    while (!detected && Date.now() < detDeadline) {
      const v = await views()
      detected = [...v.values()].every(rows => rows.filter(r => victimIds.has(r.peerId)).every(r => r.liveness === 'offline' || r.liveness === 'left'))
      if (!detected) await new Promise(resolve => setTimeout(resolve, 25))
    }
    result.detectMs = detected ? Date.now() - tk : null
    result.extra = { killed: k, processes: true }
    return result
  } finally {
    await Promise.all(procs.map(async p => {
      if (!p.killed) p.child.kill('SIGTERM')
      const timer = setTimeout(() => { p.child.kill('SIGKILL') }, 6000)
      await p.child
      clearTimeout(timer)
    }))
    await rm(root, { recursive: true, force: true })
    result.wallMs = Date.now() - t0
  }
}
