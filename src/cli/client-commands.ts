// `petalmesh route` and `petalmesh peers`: a light client joins the mesh, reads the swarm, leaves.
import { Option, type Command } from 'commander'
import { discoverRoute, listPeers } from '../client/discover.ts'
import { readDefaultBootstrap } from '../node/config.ts'
import { formatSpan } from '../protocols/types.ts'
import { UsageError } from '../util/errors.ts'
import type { RouteMode } from '../protocols/routing/index.ts'

function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

interface ClientFlags { model: string, bootstrap?: string[], mode?: RouteMode, json?: boolean, blocks?: string, timeout?: string }

function common (cmd: Command): Command {
  return cmd
    .requiredOption('-m, --model <id>', 'swarm id (the Petals dht_prefix of the model)')
    .option('-b, --bootstrap <multiaddr>', 'bootstrap peer (repeatable; default: bootstrap.json)', collect)
    .option('--blocks <n>', 'the model\'s block count (default: learned from the swarm)')
    .option('--timeout <ms>', 'give up after this long', '10000')
    .option('--json', 'print JSON for scripts')
}

function options (f: ClientFlags): Parameters<typeof discoverRoute>[0] {
  const timeoutMs = Number(f.timeout ?? '10000')
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout must be a positive integer of ms, got ${JSON.stringify(f.timeout)}`)
  const blocks = f.blocks == null ? undefined : Number(f.blocks)
  if (blocks != null && (!Number.isInteger(blocks) || blocks < 1)) throw new UsageError(`--blocks must be a positive integer, got ${JSON.stringify(f.blocks)}`)
  return { model: f.model, bootstrap: f.bootstrap ?? readDefaultBootstrap(), mode: f.mode, totalBlocks: blocks, timeoutMs }
}

export function registerClientCommands (program: Command): void {
  common(program.command('route').description('find a route of servers covering every block of a model, and the initial_peers for a Petals client'))
    .addOption(new Option('--mode <mode>', 'routing mode').choices(['min-latency', 'max-throughput']).default('min-latency'))
    .action(async (f: ClientFlags) => {
      const r = await discoverRoute(options(f))
      if (f.json === true) {
        console.log(JSON.stringify({ model: r.model, totalBlocks: r.totalBlocks, mode: r.route.mode, routeMs: r.routeMs, hops: r.route.hops, initialPeers: r.initialPeers, bottleneckThroughput: r.route.bottleneckThroughput, estimatedLatencyMs: r.route.estimatedLatencyMs ?? null }))
        return
      }
      console.log(`route for ${r.model} (${r.totalBlocks} blocks, ${r.route.mode}, found in ${r.routeMs} ms):`)
      for (const h of r.route.hops) {
        const rtt = h.rttMs == null ? '?' : Number.isFinite(h.rttMs) ? `${h.rttMs.toFixed(1)} ms` : 'unreachable'
        console.log(`  blocks ${formatSpan(h.span).padEnd(8)} ${h.peerId}  rtt ${rtt}  ${h.throughput} tok/s  petals ${h.petalsMultiaddrs[0] ?? '(none announced)'}`)
      }
      console.log('initial_peers:')
      for (const p of r.initialPeers) console.log(`  ${p}`)
    })

  common(program.command('peers').description('list the members of a model\'s swarm'))
    .action(async (f: ClientFlags) => {
      const r = await listPeers(options(f))
      const rows = r.members.map(m => ({ peerId: m.peerId, state: m.liveness === 'alive' || m.liveness === 'suspect' ? m.state : m.liveness, span: m.record.span, throughput: m.record.throughput, name: m.record.publicName, petals: m.record.petals?.multiaddrs ?? [] }))
      if (f.json === true) { console.log(JSON.stringify({ model: r.model, totalBlocks: r.totalBlocks, peers: rows })); return }
      console.log(`${r.model}: ${r.totalBlocks} blocks, ${rows.length} members`)
      for (const row of rows) console.log(`  ${row.peerId}  ${row.state.padEnd(8)} ${formatSpan(row.span).padEnd(8)} ${row.throughput} tok/s ${row.name}`)
    })
}
