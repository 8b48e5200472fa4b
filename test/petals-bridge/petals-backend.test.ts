// The real supervisor driving the Petals stand-in (a real Python process group with a p2pd child).

import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import type { Server } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createPetalsBackend, petalsPaths, readIdentity, UnsupportedModelError } from '../../src/petals-bridge/index.ts'
import type { BackendLogLine, BackendStatus, PetalsBackend, PetalsConfigInput } from '../../src/petals-bridge/index.ts'
import { groupAlive } from '../../src/petals-bridge/process-group.ts'
import {
  argvRecords,
  freePort,
  killStandins,
  REPO,
  serverRecords,
  sleep,
  standinEnv,
  standinProcesses,
  tempDir,
  waitForStatus
} from './helpers.ts'

interface Harness {
  dispose: () => Promise<void>
  backend: PetalsBackend
  state: string
  dataDir: string
  port: number
  logs: BackendLogLine[]
  statuses: BackendStatus[]
}

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function listener (): Promise<{ server: Server, port: number, maddr: string }> {
  const server = createServer((socket) => { socket.end() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => { resolve() })))
  return { server, port, maddr: `/ip4/127.0.0.1/tcp/${port}/p2p/QmedTaZXmULqwspJXz44SsPZyTNKxhnnFvYRajfH7MGhCY` }
}

/** A backend on a fresh data directory. Disposed after the test, or by the caller when `own` is set (concurrent tests). */
async function start (config: PetalsConfigInput = {}, extraEnv: Record<string, string> = {}, own = false): Promise<Harness> {
  const { dir, cleanup } = tempDir()
  const state = join(dir, 'state')
  const dataDir = join(dir, 'data')
  const port = await freePort()
  const backend = await createPetalsBackend({
    config: { model: 'bigscience/bloom-560m', port, throughput: 100, stopGraceMs: 5_000, restart: { maxRestarts: 0 }, ...config },
    dataDir,
    env: standinEnv(state, extraEnv),
    hosts: ['127.0.0.1']
  })
  const logs: BackendLogLine[] = []
  const statuses: BackendStatus[] = []
  backend.onLog((line) => { logs.push(line) })
  backend.onStatus((s) => { statuses.push(s) })
  const dispose = async (): Promise<void> => {
    await backend.close()
    killStandins(state)
    cleanup()
  }
  if (!own) cleanups.push(dispose)
  return { dispose, backend, state, dataDir, port, logs, statuses }
}

const text = (h: Harness): string => h.logs.map((l) => l.text).join('\n')

describe('Petals backend against the stand-in', () => {
  it('starts to online on the right span with the peer ID known before launch, from a clean directory', async () => {
    const { dir: cacheDir } = tempDir('petalmesh-cache-')
    const h = await start({ cacheDir, cudaVisibleDevices: '0' })
    const before = h.backend.status()
    const identity = await readIdentity(petalsPaths(h.dataDir, { identityPath: null }).identityPath)
    expect(before).toMatchObject({ state: 'stopped', petalsPeerId: identity?.peerId, petalsMultiaddrs: [`/ip4/127.0.0.1/tcp/${h.port}/p2p/${identity?.peerId}`], dhtReady: false })
    expect(h.backend.needsInitialPeers).toBe(true)
    // A config.yml in the working directory would be read silently by Petals (num_blocks + block_indices = crash).
    const { workDir, logPath } = petalsPaths(h.dataDir, { identityPath: null })
    mkdirSync(workDir, { recursive: true })
    writeFileSync(join(workDir, 'config.yml'), 'num_blocks: 3\n')

    await h.backend.setSpan({ start: 2, end: 5 })
    const online = await waitForStatus(h.backend, (s) => s.state === 'online')
    expect(online).toMatchObject({ span: { start: 2, end: 5 }, petalsPeerId: identity?.peerId, restarts: 0, lastError: null })
    expect(h.statuses.map((s) => s.state).filter((s, i, a) => s !== a[i - 1])).toEqual(['starting', 'loading', 'online'])
    expect(h.statuses.filter((s) => s.loading != null).map((s) => s.loading)).toEqual([{ done: 0, total: 3 }, { done: 1, total: 3 }, { done: 2, total: 3 }, { done: 3, total: 3 }])
    // Its DHT is up from the "Running a server on" line on, before the blocks are announced.
    const ready = h.statuses.findIndex((s) => s.dhtReady)
    expect(h.statuses[ready]).toMatchObject({ state: 'starting', petalsMultiaddrs: [`/ip4/127.0.0.1/tcp/${h.port}/p2p/${identity?.peerId}`] })
    expect(h.statuses.slice(ready).every((s) => s.dhtReady)).toBe(true)

    const [record] = argvRecords(h.state)
    expect(record.cwd).toBe(workDir)
    expect(record.argv.slice(0, 3)).toEqual(['bigscience/bloom-560m', '--block_indices', '2:5'])
    expect(record.env).toMatchObject({ HIVEMIND_COLORS: '0', PETALS_CACHE: cacheDir, CUDA_VISIBLE_DEVICES: '0' })
    // The server listens on its port (held by its p2pd child) under the precomputed identity.
    const banner = await new Promise<string>((resolve, reject) => {
      const socket = connect(h.port, '127.0.0.1')
      let data = ''
      socket.on('data', (chunk) => { data += String(chunk) })
      socket.on('end', () => { resolve(data) })
      socket.on('error', reject)
    })
    expect(banner.trim()).toBe(`p2pd-standin ${identity?.peerId}`)
    expect(readFileSync(logPath, 'utf8')).toMatch(/\[INFO\] Started/)

    await h.backend.close()
    const log = text(h)
    expect(log).toMatch(/Announced that blocks \['bigscience\/bloom-560m-petals.2', 'bigscience\/bloom-560m-petals.3', 'bigscience\/bloom-560m-petals.4'\] are offline/)
    expect(log).toMatch(/Module container shut down successfully/)
    expect(log).toMatch(/Caught KeyboardInterrupt, shutting down/)
    expect(log).toMatch(/Petals exited \(code 0\) after a stop request/)
    expect(h.backend.status()).toMatchObject({ state: 'stopped', dhtReady: false })
    expect(h.statuses.find((s) => s.state === 'stopping')?.dhtReady).toBe(false)
    expect(standinProcesses(h.state)).toEqual([])
    expect(groupAlive(record.pgid)).toBe(false)
  })

  it('moves to a new span: graceful stop, nothing left, restart on the new span with the swarm\'s peers', async () => {
    const peer = await listener()
    const h = await start()
    await h.backend.setSpan({ start: 0, end: 2 })
    await waitForStatus(h.backend, (s) => s.state === 'online')
    await h.backend.setSpan({ start: 3, end: 6 }, { initialPeers: [peer.maddr] })
    const online = await waitForStatus(h.backend, (s) => s.state === 'online')
    expect(online.span).toEqual({ start: 3, end: 6 })
    const [first, second] = argvRecords(h.state)
    expect(first.argv).toContain('--new_swarm')
    expect(second.argv.slice(0, 3)).toEqual(['bigscience/bloom-560m', '--block_indices', '3:6'])
    expect(second.argv.slice(second.argv.indexOf('--initial_peers'))).toEqual(['--initial_peers', peer.maddr])
    expect(groupAlive(first.pgid)).toBe(false)
    expect(text(h)).toMatch(/stopping Petals \(moving to span 3:6\)/)
    // idempotent
    await h.backend.setSpan({ start: 3, end: 6 })
    expect(argvRecords(h.state)).toHaveLength(2)
    await h.backend.close()
    expect(standinProcesses(h.state)).toEqual([])
  })

  describe('each failure is classified with its message and fix', () => {
    const cases: Array<[string, PetalsConfigInput, Record<string, string>, string, RegExp, boolean]> = [
      ['CUDA out of memory', {}, { PETALS_STANDIN_FAIL: 'cuda_oom' }, 'cuda-oom', /CUDA out of memory while loading or serving blocks: torch.cuda.OutOfMemoryError/, false],
      ['not enough GPU memory', {}, { PETALS_STANDIN_FAIL: 'gpu_memory' }, 'gpu-memory', /not have enough memory to serve even one block/, true],
      ['unsupported model', {}, { PETALS_STANDIN_FAIL: 'unsupported_model' }, 'unsupported-model', /does not support model type mistral/, true],
      ['stuck download', { stuckDownloadRetries: 2 }, { PETALS_STANDIN_FAIL: 'stuck_download' }, 'stuck-download', /Downloading the model weights keeps failing: 2 failed attempts to load model-\d{5}-of-\d{5}\.safetensors/, false],
      ['full disk', { stuckDownloadRetries: 2 }, { PETALS_STANDIN_FAIL: 'disk_space' }, 'disk-space', /Not enough disk space/, false],
      ['killed', {}, { PETALS_STANDIN_FAIL: 'killed' }, 'killed', /killed: terminated by SIGKILL/, false],
      ['unknown crash', {}, { PETALS_STANDIN_FAIL: 'crash' }, 'exited', /exited unexpectedly: exit code 1/, false],
      ['float16 on a CPU-only machine', { torchDtype: 'float16' }, { PETALS_STANDIN_GPUS: 'none' }, 'unsupported-dtype', /float16 is not supported on CPU/, true],
      ['Python not found', { python: '/nonexistent/bin/python3' }, {}, 'python-missing', /Python executable was not found/, true]
    ]

    /** Run a backend until it gives up, and return its last status (disposing of everything). */
    async function failOnce (config: PetalsConfigInput, env: Record<string, string>, initialPeers: string[] = []): Promise<{ failed: BackendStatus, log: string }> {
      const h = await start(config, env, true)
      try {
        await h.backend.setSpan({ start: 0, end: 3 }, { initialPeers })
        const failed = await waitForStatus(h.backend, (s) => s.state === 'failed', 20_000)
        await sleep(50)
        expect(standinProcesses(h.state)).toEqual([])
        return { failed, log: text(h) }
      } finally {
        await h.dispose()
      }
    }

    it.concurrent.each(cases)('%s', async (_name, config, env, kind, message, permanent) => {
      const { failed } = await failOnce(config, env)
      expect(failed.lastError?.kind).toBe(kind)
      expect(failed.lastError?.message).toMatch(message)
      expect(failed.lastError?.message).toMatch(permanent ? /restarting cannot fix this/ : /giving up: 1 crashes within 600 s/)
      expect(failed.lastError?.hint.length).toBeGreaterThan(20)
    })

    it.concurrent('bootstrap failure (no initial peer answers)', async () => {
      const deadPort = await freePort()
      const { failed } = await failOnce({}, {}, [`/ip4/127.0.0.1/tcp/${deadPort}/p2p/QmedTaZXmULqwspJXz44SsPZyTNKxhnnFvYRajfH7MGhCY`])
      expect(failed.lastError).toMatchObject({ kind: 'bootstrap-failed' })
      expect(failed.lastError?.message).toMatch(/none of the initial peers answered: RuntimeError: DHTNode bootstrap failed/)
      expect(failed.lastError?.hint).toMatch(/firewall, NAT/)
    })

    it.concurrent('identity already taken', async () => {
      const server = createServer((socket) => { socket.end() })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      try {
        const maddr = `/ip4/127.0.0.1/tcp/${(server.address() as { port: number }).port}/p2p/QmedTaZXmULqwspJXz44SsPZyTNKxhnnFvYRajfH7MGhCY`
        const { failed, log } = await failOnce({}, { PETALS_STANDIN_FAIL: 'identity_taken' }, [maddr])
        expect(failed.lastError).toMatchObject({ kind: 'identity-taken' })
        expect(failed.lastError?.message).toMatch(/Identity from `.*identity.key` is already taken by another peer/)
        expect(log).toMatch(/Checking that identity from `.*` is not used by other peers/)
      } finally {
        server.close()
      }
    })

    it.concurrent('port already in use', async () => {
      const server = createServer()
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      try {
        const { failed } = await failOnce({ port: (server.address() as { port: number }).port }, {})
        expect(failed.lastError).toMatchObject({ kind: 'port-in-use' })
        expect(failed.lastError?.hint).toMatch(/petals.port/)
      } finally {
        server.close()
      }
    })
  })

  it('refuses an unsupported model before anything starts', async () => {
    const { dir, cleanup } = tempDir()
    cleanups.push(cleanup)
    await expect(createPetalsBackend({
      config: { model: 'mistralai/Mistral-7B-v0.1' },
      dataDir: dir,
      env: standinEnv(join(dir, 'state'))
    })).rejects.toBeInstanceOf(UnsupportedModelError)
    await expect(createPetalsBackend({
      config: { model: 'bigscience/bloom-560m', dhtPrefix: 'has.dot' },
      dataDir: dir,
      env: standinEnv(join(dir, 'state'))
    })).rejects.toThrow(/contains "\."/)
    expect(argvRecords(join(dir, 'state'))).toEqual([])
  })

  it('backs off between crashes and stops at the limit, going standby with the reason', async () => {
    const h = await start({ restart: { backoffBaseMs: 100, backoffMaxMs: 10_000, maxRestarts: 2, windowMs: 60_000 } }, { PETALS_STANDIN_FAIL: 'crash' })
    const starts: number[] = []
    // Count launches: entries into 'starting' (the status changes again while starting, when the DHT is up).
    let last = ''
    h.backend.onStatus((s) => { if (s.state === 'starting' && last !== 'starting') starts.push(Date.now()); last = s.state })
    await h.backend.setSpan({ start: 0, end: 3 })
    const failed = await waitForStatus(h.backend, (s) => s.state === 'failed', 30_000)
    expect(failed.restarts).toBe(2)
    expect(failed.lastError?.message).toMatch(/giving up: 3 crashes within 60 s; the node stays on standby/)
    expect(argvRecords(h.state)).toHaveLength(3)
    expect(h.statuses.filter((s, i, all) => s.state === 'crashed' && all[i - 1]?.state !== 'crashed')).toHaveLength(2)
    expect(text(h)).toMatch(/restarting in 100 ms[\s\S]*restarting in 200 ms/)
    // each restart waits at least its backoff (the rest of a gap is Python starting up and crashing)
    expect(starts[1] - starts[0]).toBeGreaterThanOrEqual(100)
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(200)
    for (const record of argvRecords(h.state)) expect(groupAlive(record.pgid)).toBe(false)
    expect(standinProcesses(h.state)).toEqual([])
  })

  it('recovers when a restart succeeds', async () => {
    const h = await start({ restart: { backoffBaseMs: 50, maxRestarts: 3 } }, { PETALS_STANDIN_FAIL: 'cuda_oom', PETALS_STANDIN_FAIL_TIMES: '1' })
    await h.backend.setSpan({ start: 0, end: 3 })
    const online = await waitForStatus(h.backend, (s) => s.state === 'online', 20_000)
    expect(online).toMatchObject({ restarts: 1, lastError: null })
    expect(h.statuses.find((s) => s.state === 'crashed')?.lastError?.kind).toBe('cuda-oom')
  })

  it('escalates to SIGKILL when Petals ignores SIGINT', async () => {
    const h = await start({ stopGraceMs: 700 }, { PETALS_STANDIN_IGNORE_SIGINT: '1' })
    await h.backend.setSpan({ start: 0, end: 2 })
    await waitForStatus(h.backend, (s) => s.state === 'online')
    const t0 = Date.now()
    await h.backend.close()
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650)
    expect(text(h)).toMatch(/did not stop within 700 ms; sending SIGKILL to its process group/)
    expect(standinProcesses(h.state)).toEqual([])
  })

  it('kills a p2pd that outlives its server before restarting on the same port', async () => {
    const h = await start({ stopGraceMs: 1_000 }, { PETALS_STANDIN_P2PD_LINGER: '1' })
    await h.backend.setSpan({ start: 0, end: 2 })
    await waitForStatus(h.backend, (s) => s.state === 'online')
    const [firstServer] = serverRecords(h.state)
    await h.backend.setSpan({ start: 2, end: 4 })
    // The new server binds the same port: the old p2pd must be gone first.
    const online = await waitForStatus(h.backend, (s) => s.state === 'online', 20_000)
    expect(online.span).toEqual({ start: 2, end: 4 })
    expect(text(h)).toMatch(/processes \d+ of Petals' group outlived it; killing them/)
    expect(standinProcesses(h.state)).not.toContain(firstServer.p2pdPid)
    await h.backend.close()
    expect(standinProcesses(h.state)).toEqual([])
  })

  it('cleans up the p2pd of a server that was killed, then restarts', async () => {
    const h = await start({ stopGraceMs: 1_000, restart: { backoffBaseMs: 50, maxRestarts: 2 } }, { PETALS_STANDIN_P2PD_LINGER: '1', PETALS_STANDIN_FAIL: 'killed', PETALS_STANDIN_FAIL_TIMES: '1' })
    await h.backend.setSpan({ start: 0, end: 3 })
    const online = await waitForStatus(h.backend, (s) => s.state === 'online', 20_000)
    expect(online.restarts).toBe(1)
    expect(h.statuses.find((s) => s.state === 'crashed')?.lastError?.kind).toBe('killed')
    expect(text(h)).toMatch(/outlived it; killing them/)
  })
})

describe('a server left over by a daemon that died', () => {
  it('is stopped when the next backend is created, freeing its port and identity', async () => {
    const { dir, cleanup } = tempDir()
    const state = join(dir, 'state')
    const dataDir = join(dir, 'data')
    cleanups.push(() => { killStandins(state); cleanup() })
    const port = await freePort()
    const paths = petalsPaths(dataDir, { identityPath: null })
    mkdirSync(join(dataDir, 'petals'), { recursive: true })
    const orphan = spawn('python3', ['-m', 'petals.cli.run_server', 'bigscience/bloom-560m', '--block_indices', '0:2', '--new_swarm', '--port', String(port), '--throughput', '1'], {
      cwd: dir, detached: true, stdio: 'ignore', env: { ...process.env, ...standinEnv(state) }
    })
    writeFileSync(paths.pidFile, JSON.stringify({ pgid: orphan.pid }))
    for (let i = 0; i < 200 && serverRecords(state).every((r) => r.port == null); i++) await sleep(25)
    expect(groupAlive(orphan.pid as number)).toBe(true)

    const backend = await createPetalsBackend({ config: { model: 'bigscience/bloom-560m', port, throughput: 100 }, dataDir, env: standinEnv(state), hosts: ['127.0.0.1'] })
    cleanups.push(() => backend.close())
    expect(groupAlive(orphan.pid as number)).toBe(false)
    await backend.setSpan({ start: 0, end: 2 })
    await waitForStatus(backend, (s) => s.state === 'online')
    expect(JSON.parse(readFileSync(paths.pidFile, 'utf8')).pgid).not.toBe(orphan.pid)
    await backend.close()
    expect(() => readFileSync(paths.pidFile)).toThrow()
    expect(standinProcesses(state)).toEqual([])
  })
})

describe('SIGINT on the node', () => {
  it('stops Petals gracefully and leaves no process behind', async () => {
    const { dir, cleanup } = tempDir()
    const state = join(dir, 'state')
    cleanups.push(() => { killStandins(state); cleanup() })
    const port = await freePort()
    const input = {
      config: { model: 'bigscience/bloom-560m', port, throughput: 100, stopGraceMs: 5_000 },
      dataDir: join(dir, 'data'),
      env: standinEnv(state),
      span: { start: 1, end: 4 }
    }
    const node = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'test', 'petals-bridge', 'node-harness.ts'), JSON.stringify(input)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    cleanups.push(() => { if (node.exitCode == null) node.kill('SIGKILL') })
    let out = ''
    node.stdout.on('data', (chunk) => { out += String(chunk) })
    node.stderr.on('data', (chunk) => { out += String(chunk) })
    const exited = new Promise<number | null>((resolve) => node.on('exit', (code) => { resolve(code) }))
    for (let i = 0; i < 300 && !out.includes('ONLINE'); i++) await sleep(50)
    expect(out).toContain('ONLINE')
    const [server] = serverRecords(state)
    expect(standinProcesses(state)).toEqual(expect.arrayContaining([server.pid, server.p2pdPid]))

    node.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(out).toMatch(/CLOSED \{"state":"stopped"/)
    const log = readFileSync(join(dir, 'data', 'petals', 'logs', 'petals.log'), 'utf8')
    expect(log).toMatch(/are offline[\s\S]*Module container shut down successfully[\s\S]*Caught KeyboardInterrupt, shutting down/)
    expect(standinProcesses(state)).toEqual([])
    expect(groupAlive(server.pgid)).toBe(false)
  })
})
