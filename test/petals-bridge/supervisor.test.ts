// The backend state machine, driven through the simulated backend (same supervisor as the real one).

import { describe, expect, it } from 'vitest'
import { BackendClosedError, createBackend, createSimulatedBackend } from '../../src/petals-bridge/index.ts'
import type { BackendLogLine, BackendStatus, InitialPeersRequest } from '../../src/petals-bridge/index.ts'
import { RestartPolicy } from '../../src/petals-bridge/restart-policy.ts'
import { recordStates, sleep, waitForStatus } from './helpers.ts'

const fast = { loadMsPerBlock: 5, startMs: 5, stopMs: 5 }
const stateNames = (states: BackendStatus[]): string[] => states.map((s) => s.state).filter((s, i, all) => i === 0 || s !== all[i - 1])

describe('RestartPolicy', () => {
  it('backs off exponentially and gives up after maxRestarts crashes within the window', () => {
    const policy = new RestartPolicy({ backoffBaseMs: 100, backoffMaxMs: 500, maxRestarts: 4, windowMs: 10_000 })
    expect([0, 1, 2, 3].map((i) => policy.recordCrash(i * 1000))).toEqual([
      { action: 'restart', delayMs: 100, crashesInWindow: 1 },
      { action: 'restart', delayMs: 200, crashesInWindow: 2 },
      { action: 'restart', delayMs: 400, crashesInWindow: 3 },
      { action: 'restart', delayMs: 500, crashesInWindow: 4 }
    ])
    expect(policy.recordCrash(4000)).toEqual({ action: 'give-up', crashesInWindow: 5 })
    // old crashes leave the window
    expect(policy.recordCrash(30_000)).toEqual({ action: 'restart', delayMs: 100, crashesInWindow: 1 })
  })
})

describe('supervised backend (simulated)', () => {
  it('starts, reports loading progress, goes online, and is idempotent for the same span', async () => {
    const backend = createSimulatedBackend({ ...fast, petalsPeerId: 'QmTestPeer' })
    const rec = recordStates(backend)
    const logs: BackendLogLine[] = []
    backend.onLog((l) => { logs.push(l) })
    await backend.setSpan({ start: 2, end: 6 })
    const online = await waitForStatus(backend, (s) => s.state === 'online')
    expect(online).toMatchObject({ state: 'online', span: { start: 2, end: 6 }, loading: null, petalsPeerId: 'QmTestPeer', restarts: 0, lastError: null })
    expect(stateNames(rec.states)).toEqual(['stopped', 'starting', 'loading', 'online'])
    const progress = rec.states.filter((s) => s.loading != null).map((s) => `${s.loading?.done}/${s.loading?.total}`)
    expect(progress).toEqual(['0/4', '1/4', '2/4', '3/4', '4/4'])
    const before = rec.states.length
    await backend.setSpan({ start: 2, end: 6 })
    await sleep(30)
    expect(rec.states.length).toBe(before)
    expect(logs.some((l) => l.source === 'petals' && /Started/.test(l.text))).toBe(true)
    expect(logs.some((l) => l.source === 'bridge' && /starting Petals on blocks 2:6/.test(l.text))).toBe(true)
    await backend.close()
    expect(backend.status().state).toBe('stopped')
    await expect(backend.setSpan({ start: 0, end: 1 })).rejects.toBeInstanceOf(BackendClosedError)
  })

  it('goes online even when the event loop is late (the last block and "Started" in one late turn)', async () => {
    // Many blocks, and the event loop blocked past the whole load: every timer is due at once.
    // Timers that Node groups by duration then run out of order; the backend must still end online.
    const backend = createSimulatedBackend({ ...fast, loadMsPerBlock: 2 })
    await backend.setSpan({ start: 0, end: 12 })
    // An older timer of the old "Started" duration (12 blocks × 2 ms + 1), set before the blocks'
    // timers: its group is due first, so a separate "Started" timer ran before the last block's.
    const older = setTimeout(() => {}, 12 * 2 + 1)
    await sleep(fast.startMs + 3) // the simulated server sets its block timers
    const until = Date.now() + 100
    while (Date.now() < until) { /* block the event loop past the whole load */ }
    const online = await waitForStatus(backend, (s) => s.state === 'online')
    await sleep(20)
    expect(backend.status()).toMatchObject({ state: 'online', span: { start: 0, end: 12 }, loading: null })
    expect(online.state).toBe('online')
    clearTimeout(older)
    await backend.close()
  })

  it('moves to a new span by stopping gracefully first', async () => {
    const backend = createSimulatedBackend(fast)
    await backend.setSpan({ start: 0, end: 3 })
    await waitForStatus(backend, (s) => s.state === 'online')
    const rec = recordStates(backend)
    await backend.setSpan({ start: 3, end: 6 })
    const online = await waitForStatus(backend, (s) => s.state === 'online')
    expect(online.span).toEqual({ start: 3, end: 6 })
    expect(stateNames(rec.states)).toEqual(['online', 'stopping', 'starting', 'loading', 'online'])
    await backend.setSpan(null)
    expect(backend.status()).toMatchObject({ state: 'stopped', span: null })
    await backend.close()
  })

  it('restarts a crashed server with exponential backoff and goes standby at the limit, saying why', async () => {
    const backend = createSimulatedBackend({ ...fast, loadMsPerBlock: 50, failAfterMs: 20, failKind: 'cuda-oom', restart: { backoffBaseMs: 40, backoffMaxMs: 1000, maxRestarts: 3, windowMs: 60_000 } })
    const starts: number[] = []
    // Count launches: entries into 'starting' (the announced address can update while starting).
    let last = ''
    backend.onStatus((s) => { if (s.state === 'starting' && last !== 'starting') starts.push(Date.now()); last = s.state })
    await backend.setSpan({ start: 0, end: 4 })
    const failed = await waitForStatus(backend, (s) => s.state === 'failed', 5_000)
    expect(failed.restarts).toBe(3)
    expect(failed.lastError?.kind).toBe('cuda-oom')
    expect(failed.lastError?.message).toMatch(/CUDA out of memory.*giving up: 4 crashes within 60 s; the node stays on standby/)
    expect(failed.lastError?.hint).toMatch(/numBlocks/)
    expect(starts).toHaveLength(4)
    const gaps = starts.slice(1).map((t, i) => t - starts[i])
    // each gap = 20 ms of running + the backoff (40, 80, 160 ms)
    expect(gaps[0]).toBeGreaterThanOrEqual(55)
    expect(gaps[1]).toBeGreaterThanOrEqual(95)
    expect(gaps[2]).toBeGreaterThanOrEqual(175)
    // the same span stays failed; a new span is a fresh attempt
    await backend.setSpan({ start: 0, end: 4 })
    expect(backend.status().state).toBe('failed')
    await backend.setSpan({ start: 4, end: 8 })
    expect(backend.status().state).not.toBe('failed')
    await backend.close()
  })

  it('recovers after a crash and clears the error once online', async () => {
    const backend = createSimulatedBackend({ ...fast, failAfterMs: 3, failTimes: 1, failKind: 'bootstrap-failed', restart: { backoffBaseMs: 10 } })
    const rec = recordStates(backend)
    await backend.setSpan({ start: 0, end: 2 })
    const online = await waitForStatus(backend, (s) => s.state === 'online' && s.restarts === 1)
    expect(online.lastError).toBeNull()
    expect(stateNames(rec.states)).toContain('crashed')
    const crashed = rec.states.find((s) => s.state === 'crashed')
    expect(crashed?.lastError).toMatchObject({ kind: 'bootstrap-failed' })
    await backend.close()
  })

  it('gives up at once on a failure restarting cannot fix', async () => {
    const backend = createSimulatedBackend({ ...fast, failAfterMs: 3, failKind: 'unsupported-model' })
    await backend.setSpan({ start: 0, end: 2 })
    const failed = await waitForStatus(backend, (s) => s.state === 'failed')
    expect(failed.restarts).toBe(0)
    expect(failed.lastError?.message).toMatch(/restarting cannot fix this/)
    await backend.close()
  })

  it('a span change during the backoff wait starts the new span right away', async () => {
    const backend = createSimulatedBackend({ ...fast, failAfterMs: 3, failTimes: 1, restart: { backoffBaseMs: 10_000 } })
    await backend.setSpan({ start: 0, end: 2 })
    await waitForStatus(backend, (s) => s.state === 'crashed')
    await backend.setSpan({ start: 2, end: 4 })
    const online = await waitForStatus(backend, (s) => s.state === 'online', 2_000)
    expect(online.span).toEqual({ start: 2, end: 4 })
    await backend.close()
  })

  it('createBackend picks the simulated backend from the configuration', async () => {
    const backend = await createBackend({ config: { backend: 'simulated', model: 'meta-llama/Meta-Llama-3.1-405B-Instruct' }, dataDir: '/nonexistent', simulated: fast })
    expect(backend.kind).toBe('simulated')
    await backend.setSpan({ start: 0, end: 2 })
    await waitForStatus(backend, (s) => s.state === 'online')
    await backend.close()
  })

  it('reports dhtReady from "Running a server on" until the server begins to stop; never waits for initial peers', async () => {
    const backend = createSimulatedBackend(fast)
    expect(backend.needsInitialPeers).toBe(false)
    const rec = recordStates(backend)
    await backend.setSpan({ start: 0, end: 2 })
    await waitForStatus(backend, (s) => s.state === 'online')
    await backend.setSpan(null)
    const ready = rec.states.map((s) => `${s.state}:${String(s.dhtReady)}`).filter((s, i, all) => i === 0 || s !== all[i - 1])
    expect(ready).toEqual(['stopped:false', 'starting:false', 'starting:true', 'loading:true', 'online:true', 'stopping:false', 'stopped:false'])
    await backend.close()
  })

  it('with a resolver, asks for the initial peers right before each launch (waiting first; a restart waits in crashed)', async () => {
    // Loading takes 5 + 2 × 50 ms, so the crash at 15 ms always lands while loading (with 5 ms
    // blocks it raced the "Started" line on a slow CI machine).
    const backend = createSimulatedBackend({ ...fast, loadMsPerBlock: 50, failAfterMs: 15, failTimes: 1, restart: { backoffBaseMs: 10 } })
    const logs: BackendLogLine[] = []
    backend.onLog((l) => { logs.push(l) })
    const rec = recordStates(backend)
    const asked: Array<{ req: InitialPeersRequest, state: string, answer: (peers: string[]) => void }> = []
    const resolveInitialPeers = async (req: InitialPeersRequest): Promise<string[]> => await new Promise((resolve) => { asked.push({ req, state: backend.status().state, answer: resolve }) })
    const set = backend.setSpan({ start: 0, end: 2 }, { resolveInitialPeers })
    await waitForStatus(backend, (s) => s.state === 'waiting')
    expect(backend.status()).toMatchObject({ state: 'waiting', span: { start: 0, end: 2 }, dhtReady: false })
    await sleep(20)
    expect(asked).toHaveLength(1)
    expect(asked[0].req).toMatchObject({ span: { start: 0, end: 2 }, restart: false })
    asked[0].answer([])
    await set
    await waitForStatus(backend, (s) => s.state === 'crashed')
    await sleep(30)
    expect(asked).toHaveLength(2) // asked again for the restart, still crashed meanwhile
    expect(asked[1]).toMatchObject({ req: { restart: true }, state: 'crashed' })
    expect(backend.status().state).toBe('crashed')
    asked[1].answer(['/ip4/127.0.0.1/tcp/4/p2p/QmSeed'])
    await waitForStatus(backend, (s) => s.state === 'online')
    const connecting = logs.filter((l) => /Connecting to a private swarm/.test(l.text)).map((l) => l.text.replace(/^.*\] /, ''))
    expect(connecting).toEqual(['Connecting to a private swarm, initial peers: []', "Connecting to a private swarm, initial peers: ['/ip4/127.0.0.1/tcp/4/p2p/QmSeed']"])
    expect(stateNames(rec.states)).toEqual(['stopped', 'waiting', 'starting', 'loading', 'crashed', 'starting', 'loading', 'online'])
    await backend.close()
  })

  it('a span change or close() cancels a launch waiting for its initial peers', async () => {
    const backend = createSimulatedBackend(fast)
    const asked: InitialPeersRequest[] = []
    const resolveInitialPeers = async (req: InitialPeersRequest): Promise<string[]> => await new Promise((resolve) => {
      asked.push(req)
      req.signal.addEventListener('abort', () => { resolve([]) }) // what the negotiator does
    })
    void backend.setSpan({ start: 0, end: 2 }, { resolveInitialPeers })
    await waitForStatus(backend, (s) => s.state === 'waiting')
    const moved = backend.setSpan({ start: 2, end: 4 })
    await waitForStatus(backend, (s) => s.state === 'waiting' && s.span?.start === 2)
    expect(asked.map((r) => [r.span.start, r.signal.aborted])).toEqual([[0, true], [2, false]])
    await backend.close()
    await moved
    expect(asked[1].signal.aborted).toBe(true)
    expect(backend.status()).toMatchObject({ state: 'stopped', span: null })
    await sleep(20)
    expect(backend.status().state).toBe('stopped') // nothing launched after all
  })

  it('a resolver that fails is a failed start (retried after the backoff), not a reason to start a new swarm', async () => {
    const backend = createSimulatedBackend({ ...fast, restart: { backoffBaseMs: 10 } })
    const logs: BackendLogLine[] = []
    backend.onLog((l) => { logs.push(l) })
    let calls = 0
    const resolveInitialPeers = async (): Promise<string[]> => {
      if (++calls === 1) throw new Error('view not ready')
      return ['/ip4/127.0.0.1/tcp/4/p2p/QmSeed']
    }
    await backend.setSpan({ start: 0, end: 2 }, { resolveInitialPeers })
    const online = await waitForStatus(backend, (s) => s.state === 'online')
    expect(online.restarts).toBe(1)
    expect(calls).toBe(2)
    expect(logs.filter((l) => /Connecting to a private swarm/.test(l.text)).map((l) => l.text.replace(/^.*\] /, '')))
      .toEqual(["Connecting to a private swarm, initial peers: ['/ip4/127.0.0.1/tcp/4/p2p/QmSeed']"])
    await backend.close()
  })

  it('close() during loading stops cleanly', async () => {
    const backend = createSimulatedBackend({ ...fast, loadMsPerBlock: 100 })
    await backend.setSpan({ start: 0, end: 10 })
    await waitForStatus(backend, (s) => s.state === 'loading')
    await backend.close()
    expect(backend.status()).toMatchObject({ state: 'stopped', span: null, loading: null })
  })
})
