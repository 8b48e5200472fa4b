// Acceptance tests of the foundation: real `petalmesh start` processes on loopback find each other
// through a bootstrap node, survive its departure, stop gracefully, and keep retrying an unreachable
// bootstrap address instead of failing.
import { afterAll, describe, expect, it } from 'vitest'
import { access, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { join } from 'node:path'
import {
  LEVEL, closedPort, keygen, killAllDaemons, loopbackAddr, makeTempDir, pollUntil, removeTempDirs, runCli, startDaemon,
  type Daemon, type NodeStatus
} from '../helpers/cli.ts'

afterAll(async () => {
  await killAllDaemons()
  await removeTempDirs()
})

const MESH_DEADLINE_MS = 5000

describe('three daemons bootstrapping from the first', () => {
  let a: Daemon
  let b: Daemon
  let c: Daemon
  let aStatus: NodeStatus

  it('each sees the two others (peers and DHT routing table) within 5 s of the third start', async () => {
    a = await startDaemon()
    aStatus = await a.waitReady()
    const bootstrap = [loopbackAddr(aStatus)]
    b = await startDaemon({ bootstrap })
    c = await startDaemon({ bootstrap })
    const cStarted = await c.waitForLog(l => l.msg === 'libp2p started', { timeoutMs: 20_000, what: '"libp2p started" of the 3rd daemon' })
    const cStartedAt = Date.parse(String(cStarted.time))
    await Promise.all([b.waitReady(), c.waitReady()])

    const nodes = [a, b, c]
    const ids = await Promise.all(nodes.map(async n => (await n.status()).peerId))
    expect(new Set(ids).size).toBe(3)
    const seesBoth = async (n: Daemon): Promise<NodeStatus | false> => {
      const s = await n.status()
      return s.peers >= 2 && s.dhtRoutingTable >= 2 && s
    }
    // Poll well past the deadline so a failure reports how late the mesh formed, not just "timed out".
    const meshedAt = await Promise.all(nodes.map(async (n, i) => {
      await pollUntil(async () => await seesBoth(n), { timeoutMs: 15_000, intervalMs: 100, what: `daemon ${'abc'[i]} to see 2 peers in libp2p and in its DHT routing table` })
      return Date.now()
    }))
    const lateness = Math.max(...meshedAt) - cStartedAt
    expect(lateness, `mesh formed ${lateness} ms after the 3rd daemon started (spawned ${cStartedAt - c.spawnedAt} ms earlier)`).toBeLessThanOrEqual(MESH_DEADLINE_MS)
  })

  it('the bootstrap node exits 0 within 5 s of SIGTERM, and the two others stay connected to each other', async () => {
    expect(b, 'previous test started the daemons').toBeDefined()
    const [bId, cId] = await Promise.all([b.status(), c.status()].map(async p => (await p).peerId))
    // Both must know each other as live members before the bootstrap node leaves.
    await Promise.all([[b, cId], [c, bId]].map(async ([n, other]) => {
      await pollUntil(async () => (await (n as Daemon).peers()).some(p => p.peerId === other && p.liveness === 'alive'),
        { timeoutMs: 10_000, what: `member ${String(other)} alive in the view` })
    }))

    const sentAt = Date.now()
    a.kill('SIGTERM')
    const exit = await a.waitExit(5000)
    expect(exit.code, a.logText()).toBe(0)
    expect(exit.at - sentAt).toBeLessThanOrEqual(5000)
    expect(a.logs.some(l => l.msg === 'stopped'), 'logged "stopped" (graceful path)').toBe(true)
    await expect(access(join(a.dataDir, 'api.json')), 'api.json removed on stop').rejects.toThrow()

    // For 3 s, B and C each have at least one libp2p peer and list the other as an alive member.
    const observeUntil = Date.now() + 3000
    let rounds = 0
    while (Date.now() < observeUntil) {
      for (const [n, other, name] of [[b, cId, 'b'], [c, bId, 'c']] as const) {
        const [s, peers] = await Promise.all([n.status(), n.peers()])
        expect(s.peers, `${name} connections after the bootstrap left`).toBeGreaterThanOrEqual(1)
        const entry = peers.find(p => p.peerId === other)
        expect(entry?.liveness, `${name}'s view of the other survivor: ${JSON.stringify(entry)}`).toBe('alive')
      }
      rounds++
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    expect(rounds).toBeGreaterThan(3)
    expect(b.exit).toBeNull()
    expect(c.exit).toBeNull()

    // Graceful stop of the rest, with exit code 0 (SIGINT for one, SIGTERM for the other).
    b.kill('SIGINT')
    c.kill('SIGTERM')
    const [eb, ec] = await Promise.all([b.waitExit(5000), c.waitExit(5000)])
    expect(eb.code, b.logText()).toBe(0)
    expect(ec.code, c.logText()).toBe(0)
  })
})

// Independent single-daemon cases run side by side to keep the file short.
describe.concurrent('single daemons', () => {
  it('starts with an unreachable bootstrap address, answers status, and logs that it is retrying', async () => {
    const [port, id] = await Promise.all([closedPort(), keygen()])
    const unreachable = `/ip4/127.0.0.1/tcp/${port}/p2p/${id.peerId}`
    const d = await startDaemon({ bootstrap: [unreachable], args: ['--set', 'network.redialMs=200'] })
    const s = await d.waitReady()
    expect(s.peers).toBe(0)
    expect(s.peerId).not.toBe(id.peerId)
    const warn = await d.waitForLog(l => l.level === LEVEL.warn && l.msg.includes('no bootstrap peer reachable'), { timeoutMs: 10_000, what: 'warning "no bootstrap peer reachable"' })
    expect(warn.bootstrap).toEqual([unreachable])
    expect(typeof warn.retryInMs).toBe('number')
    expect(warn.retryInMs as number).toBeGreaterThanOrEqual(200)
    expect(d.exit).toBeNull()

    // It really keeps redialling: once a node with that identity listens on that port, it connects.
    const targetDir = await makeTempDir('petalmesh-target-')
    await writeFile(join(targetDir, 'identity.key'), Buffer.from(id.privateKeyBase64, 'base64'), { mode: 0o600 })
    const target = await startDaemon({ dataDir: targetDir, listen: `/ip4/127.0.0.1/tcp/${port}` })
    expect((await target.waitReady()).peerId).toBe(id.peerId)
    // Backoff doubles from 200 ms, so the next round comes at most ~6.4 s after the target is up.
    await pollUntil(async () => (await d.status()).peers >= 1, { timeoutMs: 20_000, intervalMs: 200, what: 'the node to reach its bootstrap peer once it listens' })
    await d.waitForLog(l => l.msg === 'connected to the swarm again', { timeoutMs: 5000, what: '"connected to the swarm again"' })
    expect((await target.status()).peers).toBeGreaterThanOrEqual(1)
    target.kill('SIGTERM')
    d.kill('SIGTERM')
    const [ed, et] = await Promise.all([d.waitExit(5000), target.waitExit(5000)])
    expect(ed.code, d.logText()).toBe(0)
    expect(et.code, target.logText()).toBe(0)
  })

  // Regression (was a bug): signal handlers used to be installed only after
  // startNode() resolved, which waits for the first bootstrap dial round (up to the 5 s dial timeout)
  // and the twin check. A signal in that window kills the process by the signal (no exit code 0, no
  // libp2p stop) and leaves daemon.lock behind.
  it('SIGTERM while the first bootstrap dial is still pending stops gracefully with exit code 0', async () => {
    // A loopback TCP server that accepts and never answers: the libp2p handshake hangs until the dial timeout.
    const sockets = new Set<Socket>()
    const silent = createServer(sock => { sockets.add(sock); sock.on('error', () => {}) })
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', () => { resolve() }))
    try {
      const port = (silent.address() as AddressInfo).port
      const id = await keygen()
      const d = await startDaemon({ bootstrap: [`/ip4/127.0.0.1/tcp/${port}/p2p/${id.peerId}`] })
      await d.waitForLog(l => l.msg === 'libp2p started', { timeoutMs: 20_000, what: '"libp2p started"' })
      await pollUntil(() => sockets.size > 0, { timeoutMs: 5000, intervalMs: 20, what: 'the bootstrap dial to reach the silent server' })
      d.kill('SIGTERM')
      const exit = await d.waitExit(5000)
      expect(exit, d.logText()).toMatchObject({ code: 0, signal: null })
      await expect(access(join(d.dataDir, 'daemon.lock')), 'daemon.lock removed').rejects.toThrow()
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => silent.close(() => { resolve() }))
    }
  })

  it('`petalmesh stop -d <dir>` stops a running daemon, which exits 0', async () => {
    const d = await startDaemon()
    await d.waitReady()
    const r = await runCli(['stop', '-d', d.dataDir])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain('stopping')
    const exit = await d.waitExit(5000)
    expect(exit.code, d.logText()).toBe(0)
    await expect(access(join(d.dataDir, 'api.json')), 'api.json removed on stop').rejects.toThrow()
    await expect(access(join(d.dataDir, 'daemon.lock')), 'daemon.lock removed on stop').rejects.toThrow()
    // Nothing left to stop: a clear error with exit code 3.
    const again = await runCli(['stop', '-d', d.dataDir])
    expect(again.exitCode).toBe(3)
    expect(again.stderr).toContain('no running node found')
  })
})
