// One-off measurement: N real nodes (static spans) in one process over the memory transport, DHT off,
// 5 s heartbeat; prints convergence, RSS and CPU per node, then the time for all to see one crash.
// Run: npx tsx sim/scripts/in-process-100.ts [N]
import { startSwarm, waitFor } from '../swarm.ts'
import { staticSpan } from '../net/run.ts'
const N = Number(process.argv[2] ?? 100)
const t0 = Date.now(); const rss0 = process.memoryUsage().rss; const c0 = process.cpuUsage()
const s = await startSwarm({ nodes: N, totalBlocks: N, dht: false, parallel: true, heartbeatMs: 5000, targetPeers: 6, spec: i => ({ span: staticSpan(i, N, N) }) })
console.log('started', Date.now() - t0)
const ms = await waitFor(() => s.nodes.every(n => n.membership.view.live().length === N - 1 && n.membership.coverage().readyForInference), 300_000, 500)
const cpu = process.cpuUsage(c0)
console.log(JSON.stringify({ nodes: N, converged: ms != null, convergeMsAfterStart: ms, totalMs: Date.now() - t0, rssMbPerNode: Math.round((process.memoryUsage().rss - rss0) / N / 1e5) / 10, cpuSecPerNode: Math.round((cpu.user + cpu.system) / 1e6 / N * 100) / 100 }))
const v = s.nodes[1]; const tk = Date.now()
await v.membership.stop({ graceful: false }); await v.libp2p.stop()
const det = await waitFor(() => s.nodes.filter(n => n !== v).every(n => n.membership.view.get(v.peerId)?.liveness === 'offline'), 60_000, 50)
console.log('detectMs', det == null ? null : Date.now() - tk)
await s.stop(); process.exit(0)
