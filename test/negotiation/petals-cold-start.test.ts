// A cold start of a new private swarm with real Petals backends (the Python stand-in of
// test/fixtures/petals): three `petalmesh start` daemons launched together, none online yet (the
// weights load slowly). Exactly one Petals server may start a new swarm (--new_swarm); the others
// must bootstrap from it (--initial_peers), or the Petals swarm splits into islands whose servers
// and clients never find each other. (Before the fix every server found nobody online and passed
// --new_swarm.)
import { afterAll, describe, expect, it } from 'vitest'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LEVEL, closedPort, killAllDaemons, makeTempDir, pollUntil, removeTempDirs, startDaemon, type Daemon } from '../helpers/cli.ts'
import { argvRecords, freePort, killStandins, serverRecords, standinEnv } from '../petals-bridge/helpers.ts'

const stateDirs: string[] = []
afterAll(async () => {
  await killAllDaemons()
  for (const dir of stateDirs) killStandins(dir)
  await removeTempDirs()
})

interface Box { dataDir: string, peerId: string, listen: string, addr: string, petalsPort: number }

/** A node's data directory with its identity already in place, so every bootstrap address is known before any start. */
async function prepare (): Promise<Box> {
  const dataDir = await makeTempDir('petalmesh-islands-')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const key = await generateKeyPair('Ed25519')
  await writeFile(join(dataDir, 'identity.key'), privateKeyToProtobuf(key), { mode: 0o600 })
  const port = await closedPort()
  const peerId = peerIdFromPrivateKey(key).toString()
  const listen = `/ip4/127.0.0.1/tcp/${port}`
  return { dataDir, peerId, listen, addr: `${listen}/p2p/${peerId}`, petalsPort: await freePort() }
}

/** The value list of an argparse `nargs='+'` option in an argv. */
function optionValues (argv: string[], option: string): string[] | null {
  const i = argv.indexOf(option)
  if (i < 0) return null
  const values: string[] = []
  for (const a of argv.slice(i + 1)) {
    if (a.startsWith('--')) break
    values.push(a)
  }
  return values
}

/** Starts `n` daemons with real Petals backends (the stand-in) at once, each bootstrapping from the others. */
async function coldStart (n: number, opts: { standin: Record<string, string>, seedWaitMs: number, capacity: number, args?: (i: number) => string[] }): Promise<{ boxes: Box[], daemons: Daemon[], stateDir: string }> {
  const stateDir = await makeTempDir('petalmesh-islands-standin-')
  stateDirs.push(stateDir)
  const boxes = await Promise.all(Array.from({ length: n }, async () => await prepare()))
  const env = standinEnv(stateDir, opts.standin)
  const daemons = await Promise.all(boxes.map(async (b, i) => await startDaemon({
    dataDir: b.dataDir,
    listen: b.listen,
    bootstrap: boxes.filter(o => o !== b).map(o => o.addr),
    env,
    args: [
      '--set', 'petals.backend=petals',
      '--set', 'petals.model=bigscience/bloom-560m',
      '--set', `petals.port=${b.petalsPort}`,
      '--set', 'petals.stopGraceMs=5000',
      '--set', `petals.swarmSeedWaitMs=${opts.seedWaitMs}`,
      '--set', 'swarm.totalBlocks=24',
      '--set', `swarm.capacity=${opts.capacity}`,
      '--set', 'swarm.heartbeatMs=1000',
      '--set', 'network.redialMs=200',
      '--set', 'network.natTraversal=false',
      ...(opts.args?.(i) ?? [])
    ]
  })))
  return { boxes, daemons, stateDir }
}

/** Waits until every node has launched its Petals server (the stand-in records each argv); argv by node. */
async function launches (boxes: Box[], daemons: Daemon[], stateDir: string): Promise<Map<Box, string[]>> {
  const launched = await pollUntil(() => {
    if (daemons.some(d => d.exit != null)) return 'exited' as const
    const r = argvRecords(stateDir)
    return r.length >= boxes.length && r
  }, {
    timeoutMs: 45_000, intervalMs: 200, what: `${boxes.length} Petals servers to be launched`
  }).catch((err: Error) => { throw new Error(`${err.message}\n${daemons.map(d => d.logText()).join('\n---\n')}`) })
  if (launched === 'exited') throw new Error(`a daemon exited:\n${daemons.filter(d => d.exit != null).map(d => d.logText()).join('\n---\n')}`)
  const byNode = new Map(launched.map(r => [boxes.find(b => r.cwd.startsWith(b.dataDir))!, r.argv]))
  expect(byNode.size, 'one launch per node').toBe(boxes.length)
  return byNode
}

async function stopAll (daemons: Daemon[], stateDir: string): Promise<void> {
  for (const d of daemons) d.kill('SIGTERM')
  await Promise.all(daemons.map(async d => await d.waitExit(15_000).catch(() => {})))
  killStandins(stateDir)
}

/** Exactly one server started with --new_swarm, the others with --initial_peers naming it; every DHT up, nothing restarted. */
async function expectOneSwarm (boxes: Box[], daemons: Daemon[], stateDir: string): Promise<void> {
  const byNode = await launches(boxes, daemons, stateDir)
  const records = argvRecords(stateDir)
  const founders = [...byNode].filter(([, argv]) => argv.includes('--new_swarm')).map(([b]) => b)
  expect(founders.map(b => b.peerId), `exactly one --new_swarm:\n${records.map(r => r.argv.join(' ')).join('\n')}`).toHaveLength(1)
  const [seed] = founders
  const seedDaemon = daemons[boxes.indexOf(seed)]
  expect(seedDaemon.logs.some(l => /this node is (now )?the swarm's seed/.test(l.msg)), seedDaemon.logText()).toBe(true)

  // The others bootstrap from the seed's Petals server, once its DHT is up.
  const seedServer = await pollUntil(() => serverRecords(stateDir).find(s => s.port === seed.petalsPort && s.peerId != null), {
    timeoutMs: 10_000, what: 'the seed\'s Petals server record'
  })
  const seedMaddr = `/ip4/127.0.0.1/tcp/${seed.petalsPort}/p2p/${seedServer.peerId}`
  for (const [b, argv] of byNode) {
    if (b === seed) continue
    expect(argv.includes('--new_swarm')).toBe(false)
    expect(optionValues(argv, '--initial_peers'), argv.join(' ')).toContain(seedMaddr)
  }
  // None of them failed to bootstrap: every server's DHT came up (the stand-in records its peer
  // id only after its bootstrap succeeded) and nothing was restarted.
  await pollUntil(() => serverRecords(stateDir).filter(s => s.peerId != null).length >= boxes.length, { timeoutMs: 15_000, what: 'every Petals DHT up' })
  expect(argvRecords(stateDir)).toHaveLength(boxes.length)
  for (const d of daemons) expect(d.logs.some(l => /Petals crashed/.test(l.msg)), d.logText()).toBe(false)
}

describe('Petals cold start of a new private swarm (real daemons, Petals stand-in)', () => {
  it('exactly one server starts the Petals swarm (--new_swarm); the others bootstrap from it', async () => {
    // Loading takes 8 × 600 ms: nobody is online while the others claim and launch, as with real
    // weights (minutes). Each node can hold a third of the 24 blocks, so all three serve.
    const { boxes, daemons, stateDir } = await coldStart(3, { standin: { PETALS_STANDIN_LOAD_MS_PER_BLOCK: '600' }, seedWaitMs: 30_000, capacity: 8 })
    try {
      await expectOneSwarm(boxes, daemons, stateDir)
    } finally {
      await stopAll(daemons, stateDir)
    }
  }, 90_000)

  it('the same with operator-fixed spans (swarm.span), where every server is launched as its node starts', async () => {
    const spans = ['0:8', '8:16', '16:24']
    const { boxes, daemons, stateDir } = await coldStart(3, { standin: { PETALS_STANDIN_LOAD_MS_PER_BLOCK: '600' }, seedWaitMs: 30_000, capacity: 8, args: (i) => ['--set', `swarm.span=${spans[i]}`] })
    try {
      await expectOneSwarm(boxes, daemons, stateDir)
    } finally {
      await stopAll(daemons, stateDir)
    }
  }, 90_000)

  it('the wait is bounded: with the seed\'s DHT still not up after petals.swarmSeedWaitMs, the other starts a swarm of its own and says why', async () => {
    // Petals takes about 4 s to bring its DHT up (each start-up step pauses 2 s), the wait is 1 s.
    const { boxes, daemons, stateDir } = await coldStart(2, { standin: { PETALS_STANDIN_STEP_MS: '2000' }, seedWaitMs: 1000, capacity: 12 })
    try {
      const byNode = await launches(boxes, daemons, stateDir)
      expect([...byNode.values()].every(argv => argv.includes('--new_swarm'))).toBe(true)
      const warned = daemons.flatMap((d, i) => d.logs.filter(l => l.level === LEVEL.warn && /petals\.swarmSeedWaitMs/.test(l.msg)).map(l => ({ l, i })))
      expect(warned, daemons.map(d => d.logText()).join('\n---\n')).toHaveLength(1)
      const [{ l: warning, i }] = warned
      // It names the cause (the seed, the other node), the consequence and what to do.
      expect(warning.seed).toBe(boxes[1 - i].peerId)
      expect(warning.msg).toMatch(/island/)
      expect(warning.msg).toMatch(/petals\/logs\/petals\.log/)
      expect(warning.waitedMs).toBeGreaterThanOrEqual(1000)
    } finally {
      await stopAll(daemons, stateDir)
    }
  }, 90_000)
})
