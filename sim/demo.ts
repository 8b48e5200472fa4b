// `npm start`: a local petalmesh swarm on loopback TCP with simulated Petals servers, a live
// dashboard, a crash and its healing, and a client route. No GPU, no Python, no Petals needed.
import { startSwarm, waitFor, type Swarm } from './swarm.ts'
import { startHttpApi } from '../src/node/http-api.ts'
import { discoverRoute } from '../src/client/discover.ts'
import type { PetalmeshNode } from '../src/node/daemon.ts'
import { formatSpan } from '../src/protocols/types.ts'

const NODES = Number(process.env.PETALMESH_DEMO_NODES ?? 6)
const BLOCKS = 24
const exitAfterMs = process.env.PETALMESH_DEMO_EXIT_AFTER_MS != null ? Number(process.env.PETALMESH_DEMO_EXIT_AFTER_MS) : null
const port = Number(process.env.PETALMESH_DEMO_PORT ?? 0)
const capacities = [8, 6, 6, 4, 8, 10, 6, 9]
const say = (s: string): void => { process.stdout.write(s + '\n') }

function coverageLine (n: PetalmeshNode): string {
  const c = n.membership.coverage()
  const states = n.membership.view.live().map(m => m.state)
  const loading = states.filter(s => s === 'loading' || s === 'joining').length
  return `coverage ${c.coveragePercent.toFixed(0).padStart(3)}%  min replication ${c.minReplication}  online ${c.onlineNodes}  loading ${loading}`
}

async function main (): Promise<void> {
  say(`petalmesh demo: ${NODES} nodes serving a ${BLOCKS}-block model over loopback TCP, one spare on standby, simulated Petals (no GPU needed)`)
  const swarm: Swarm = await startSwarm({
    nodes: NODES,
    transport: 'tcp',
    model: 'petalmesh-demo',
    totalBlocks: BLOCKS,
    heartbeatMs: 1000,
    dht: true,
    parallel: true,
    replication: 1,
    loadMsPerBlock: 150,
    // The last node is a spare: it stays on standby until a hole opens, then fills it.
    spec: i => ({ capacity: capacities[i % capacities.length], throughput: 80 + 20 * (i % 4), standby: i === NODES - 1 })
  })
  let stopping = false
  const stop = async (code: number): Promise<void> => {
    if (stopping) return
    stopping = true
    say('stopping the demo swarm…')
    await api.close().catch(() => {})
    await swarm.stop()
    say('stopped')
    process.exit(code)
  }
  process.on('SIGINT', () => { void stop(0) })
  process.on('SIGTERM', () => { void stop(0) })

  const watcher = swarm.nodes[0]
  const api = await startHttpApi(watcher, { host: '127.0.0.1', port })
  say('dashboard:')
  say(api.url)
  if (exitAfterMs != null) setTimeout(() => { void stop(0) }, exitAfterMs).unref()

  const t0 = Date.now()
  const ready = (): boolean => {
    const c = watcher.membership.coverage()
    return c.readyForInference && swarm.nodes.every(n => n.libp2p.status !== 'started' || ['online', 'standby'].includes(n.membership.selfState().state))
  }
  while (!ready() && Date.now() - t0 < 60_000) {
    say(`  ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${coverageLine(watcher)}`)
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  say(`converged after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${coverageLine(watcher)}`)
  for (const n of swarm.nodes) say(`  ${n.peerId.slice(-8)}  blocks ${formatSpan(n.membership.selfState().span).padEnd(6)} capacity ${n.membership.selfState().capacity}  ${n.membership.selfState().state}`)

  await new Promise(resolve => setTimeout(resolve, 3000))
  // Crash a node that is the only server of its blocks, so the swarm must heal.
  const cov = watcher.membership.coverage()
  const victim = swarm.nodes.find(n => n !== watcher && n.membership.selfState().span != null &&
    cov.blocks.some(b => b.servers.length === 1 && b.servers[0] === n.peerId)) ?? swarm.nodes[1]
  say(`crashing node ${victim.peerId.slice(-8)} (blocks ${formatSpan(victim.membership.selfState().span)}) without goodbye…`)
  const tk = Date.now()
  await victim.membership.stop({ graceful: false })
  await victim.libp2p.stop()
  await victim.negotiator?.stop()
  const detected = await waitFor(() => watcher.membership.view.get(victim.peerId)?.liveness === 'offline', 15_000)
  say(`  detected offline after ${detected == null ? 'more than 15 s' : `${Date.now() - tk} ms`}`)
  const healed = await waitFor(() => {
    const c = watcher.membership.coverage()
    return c.readyForInference
  }, 30_000, 100)
  say(`  ${healed == null ? 'not healed within 30 s' : `healed after ${Date.now() - tk} ms`}: ${coverageLine(watcher)}`)

  say('a client joins with one bootstrap address and asks for a route…')
  const r = await discoverRoute({ model: 'petalmesh-demo', bootstrap: [swarm.addrOf(swarm.nodes.find(n => n !== victim && n.libp2p.status === 'started') ?? watcher)], transport: 'tcp' })
  say(`  route in ${r.routeMs} ms (${r.route.mode}):`)
  for (const h of r.route.hops) say(`    blocks ${formatSpan(h.span).padEnd(6)} ${h.peerId.slice(-8)}  ${h.throughput} tok/s  rtt ${h.rttMs == null ? '?' : `${h.rttMs.toFixed(0)} ms`}`)
  say(`  initial_peers: ${r.initialPeers.slice(0, 2).join(' ')}${r.initialPeers.length > 2 ? ' …' : ''}`)
  say('the swarm keeps running: open the dashboard above; Ctrl-C stops everything')
}

await main()
