// Helpers for tests that drive the real `petalmesh` CLI as child processes: run a command,
// spawn daemons on loopback with ephemeral ports, read their api.json / HTTP API / JSON logs,
// and make sure every child and temp dir is gone afterwards.
import { execa, type ResultPromise } from 'execa'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(REPO_ROOT, 'bin', 'petalmesh.js')

/** The test process's environment without any PETALMESH_* variable (a developer's shell must not leak in). */
export function cleanEnv (extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v != null && !k.startsWith('PETALMESH_')) env[k] = v
  }
  return { ...env, ...extra }
}

export interface CliResult {
  exitCode: number | undefined
  stdout: string
  stderr: string
  timedOut: boolean
}

/** Runs `petalmesh <args>` to completion (bounded by timeoutMs) and returns its exit code and output. */
export async function runCli (args: string[], opts: { env?: Record<string, string>, timeoutMs?: number, cwd?: string } = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cleanEnv(opts.env),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeoutMs ?? 30_000,
    forceKillAfterDelay: 1000
  })
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), timedOut: r.timedOut }
}

// ---- temp dirs ----

const tempDirs = new Set<string>()

/** A fresh directory under os.tmpdir(); removeTempDirs() deletes every one made so far. */
export async function makeTempDir (prefix = 'petalmesh-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

export async function removeTempDirs (): Promise<void> {
  const dirs = [...tempDirs]
  tempDirs.clear()
  await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) }))
}

// ---- polling ----

/**
 * Calls `fn` until it returns a value other than undefined/null/false, at most until `timeoutMs`.
 * Throws with `what` and the last value or error seen, so a failure says what never happened.
 */
export async function pollUntil<T> (fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: { timeoutMs: number, intervalMs?: number, what: string }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs
  const interval = opts.intervalMs ?? 100
  let last: unknown
  for (let attempt = 0; ; attempt++) {
    try {
      const v = await fn()
      if (v !== undefined && v !== null && v !== false) return v
      last = v
    } catch (err) {
      last = err instanceof Error ? err.message : err
    }
    if (Date.now() >= deadline) break
    await new Promise(resolve => setTimeout(resolve, Math.min(interval, Math.max(0, deadline - Date.now()))))
  }
  throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; last: ${JSON.stringify(last)}`)
}

// ---- HTTP API ----

export async function getJson<T = Record<string, unknown>> (baseUrl: string, path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(new URL(path, baseUrl), { ...init, signal: AbortSignal.timeout(2000) })
  const body = await res.json() as T
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: HTTP ${res.status} ${JSON.stringify(body)}`)
  return body
}

export interface NodeStatus {
  peerId: string
  addresses: string[]
  connections: number
  peers: number
  dhtRoutingTable: number
  swarmMembers: number
  [key: string]: unknown
}

export interface PeerEntry { peerId: string, liveness: string, state: string, [key: string]: unknown }

// ---- daemons ----

export interface LogLine { level: number, msg: string, [key: string]: unknown }

export const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const

export interface Daemon {
  proc: ResultPromise
  pid: number
  dataDir: string
  /** Wall-clock ms at spawn. */
  spawnedAt: number
  /** Parsed JSON log lines so far (stderr). */
  logs: LogLine[]
  /** Raw stderr lines that were not JSON. */
  otherStderr: string[]
  /** Set once the process exited. */
  exit: { code: number | null, signal: string | null, at: number } | null
  /** Resolves with the exit once the process exited. */
  exited: Promise<{ code: number | null, signal: string | null, at: number }>
  /** API base URL (after waitReady). */
  apiUrl: string
  /** Waits for api.json (written by this very process) and a first answer of /v1/status. */
  waitReady: (timeoutMs?: number) => Promise<NodeStatus>
  status: () => Promise<NodeStatus>
  peers: () => Promise<PeerEntry[]>
  waitForLog: (pred: (l: LogLine) => boolean, opts: { timeoutMs: number, what: string }) => Promise<LogLine>
  /** Sends a signal; no-op if the process already exited. */
  kill: (signal?: NodeJS.Signals) => void
  /** Waits at most timeoutMs for the exit; throws if the process is still running then. */
  waitExit: (timeoutMs: number) => Promise<{ code: number | null, signal: string | null, at: number }>
  /** Everything the daemon logged, for assertion messages. */
  logText: () => string
}

const liveDaemons = new Set<Daemon>()

export interface StartDaemonOptions {
  dataDir?: string
  bootstrap?: string[]
  /** libp2p listen multiaddr; default /ip4/127.0.0.1/tcp/0. */
  listen?: string
  /** Extra CLI arguments, e.g. ['--set', 'network.redialMs=200']. */
  args?: string[]
  env?: Record<string, string>
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'NS'] to run the daemon in a network namespace. */
  wrap?: string[]
  /** How to GET a JSON API path when the test cannot reach the daemon's loopback (another namespace). */
  getJson?: <T>(baseUrl: string, path: string) => Promise<T>
}

/**
 * Spawns `petalmesh start` on 127.0.0.1 with an ephemeral libp2p port, an ephemeral API port and JSON logs.
 * Without `bootstrap`, the default bootstrap list is emptied so the test never dials beyond loopback.
 */
export async function startDaemon (opts: StartDaemonOptions = {}): Promise<Daemon> {
  const dataDir = opts.dataDir ?? await makeTempDir('petalmesh-node-')
  // The simulated Petals backend: these tests are about the daemon, not Python.
  const args = ['start', '-d', dataDir, '-l', opts.listen ?? '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-format', 'json', '--set', 'petals.backend=simulated']
  if (opts.bootstrap != null && opts.bootstrap.length > 0) for (const b of opts.bootstrap) args.push('-b', b)
  else args.push('--set', 'bootstrap=')
  args.push(...(opts.args ?? []))
  const spawnedAt = Date.now()
  const [cmd, ...pre] = [...(opts.wrap ?? []), process.execPath]
  const get = opts.getJson ?? getJson
  const proc = execa(cmd, [...pre, BIN, ...args], {
    cwd: REPO_ROOT,
    env: cleanEnv(opts.env),
    extendEnv: false,
    reject: false,
    buffer: false,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    // Safety net only: tests stop daemons themselves well before this.
    timeout: 120_000,
    forceKillAfterDelay: 2000
  })
  const logs: LogLine[] = []
  const otherStderr: string[] = []
  const waiters = new Set<() => void>()
  const rl = createInterface({ input: proc.stderr! })
  rl.on('line', (line) => {
    try {
      const parsed = JSON.parse(line) as LogLine
      if (parsed != null && typeof parsed === 'object' && typeof parsed.level === 'number') logs.push(parsed)
      else otherStderr.push(line)
    } catch {
      otherStderr.push(line)
    }
    for (const w of waiters) w()
  })
  const exited = proc.then(r => {
    const e = { code: r.exitCode ?? null, signal: r.signal ?? null, at: Date.now() }
    d.exit = e
    liveDaemons.delete(d)
    for (const w of waiters) w()
    return e
  })

  const d: Daemon = {
    proc,
    pid: proc.pid!,
    dataDir,
    spawnedAt,
    logs,
    otherStderr,
    exit: null,
    exited,
    apiUrl: '',
    logText: () => [...logs.map(l => JSON.stringify(l)), ...otherStderr].join('\n'),
    waitReady: async (timeoutMs = 20_000) => {
      const url = await pollUntil(async () => {
        if (d.exit != null) throw new Error(`daemon exited (code ${d.exit.code}) before it was ready:\n${d.logText()}`)
        try {
          const info = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8')) as { url: string, pid: number }
          return info.pid === d.pid ? info.url : undefined
        } catch {
          return undefined
        }
      }, { timeoutMs, what: `api.json of pid ${d.pid} in ${dataDir}` }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- daemon log ---\n${d.logText()}`)
      })
      d.apiUrl = url
      return await pollUntil(async () => await d.status(), { timeoutMs: 5000, what: `GET ${url}v1/status` })
    },
    status: async () => await get<NodeStatus>(d.apiUrl, 'v1/status'),
    peers: async () => (await get<{ peers: PeerEntry[] }>(d.apiUrl, 'v1/peers')).peers,
    waitForLog: async (pred, o) => {
      let found: LogLine | undefined
      let onChange: () => void = () => {}
      const check = (): boolean => {
        found = logs.find(pred)
        return found != null || d.exit != null
      }
      if (!check()) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => { waiters.delete(onChange); reject(new Error(`timed out after ${o.timeoutMs} ms waiting for log: ${o.what}\n--- daemon log ---\n${d.logText()}`)) }, o.timeoutMs)
          onChange = () => { if (check()) { clearTimeout(timer); waiters.delete(onChange); resolve() } }
          waiters.add(onChange)
        })
      }
      if (found == null) throw new Error(`daemon exited (code ${d.exit?.code}) without logging: ${o.what}\n--- daemon log ---\n${d.logText()}`)
      return found
    },
    kill: (signal = 'SIGTERM') => {
      if (d.exit == null) proc.kill(signal)
    },
    waitExit: async (timeoutMs) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      try {
        return await Promise.race([
          exited,
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => { reject(new Error(`daemon pid ${d.pid} still running ${timeoutMs} ms later\n--- daemon log ---\n${d.logText()}`)) }, timeoutMs)
          })
        ])
      } finally {
        clearTimeout(timer)
      }
    }
  }
  liveDaemons.add(d)
  return d
}

/** SIGKILLs every daemon still running (afterAll/afterEach) and waits for them to be gone. */
export async function killAllDaemons (): Promise<void> {
  const all = [...liveDaemons]
  for (const d of all) d.kill('SIGKILL')
  await Promise.all(all.map(async d => { await d.waitExit(10_000).catch(() => {}) }))
}

/** `petalmesh keygen --json`: a fresh identity from the CLI. */
export async function keygen (): Promise<{ peerId: string, privateKeyBase64: string }> {
  const r = await runCli(['keygen', '--json'])
  if (r.exitCode !== 0) throw new Error(`keygen failed (${r.exitCode}): ${r.stderr}`)
  return JSON.parse(r.stdout) as { peerId: string, privateKeyBase64: string }
}

/** A loopback TCP port that nothing listens on (bound, then closed). */
export async function closedPort (): Promise<number> {
  // Below Linux's ephemeral range (32768-60999): a port taken from that range and closed again can
  // be handed to any outgoing connection (other test files dial loopback all the time) before the
  // daemon binds it, and the daemon then fails with EADDRINUSE (seen once in a full run). Never the
  // same port twice in one process.
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (handedOut.has(port)) continue
    if (await canListen(port)) { handedOut.add(port); return port }
  }
  const port = await listenAndClose(0)
  handedOut.add(port)
  return port
}

const handedOut = new Set<number>()

async function canListen (port: number): Promise<boolean> {
  try { await listenAndClose(port); return true } catch { return false }
}

async function listenAndClose (port: number): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { resolve() })
  })
  const addr = server.address()
  const bound = typeof addr === 'object' && addr != null ? addr.port : 0
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  return bound
}

/** The daemon's loopback TCP address with /p2p/, to bootstrap others from it. */
export function loopbackAddr (status: NodeStatus): string {
  const a = status.addresses.find(x => x.startsWith('/ip4/127.0.0.1/tcp/') && x.includes('/p2p/'))
  if (a == null) throw new Error(`no /ip4/127.0.0.1/tcp/.../p2p/ address in ${JSON.stringify(status.addresses)}`)
  return a
}
