// Shared helpers for the Petals bridge tests: fixture paths, the stand-in's environment, temporary
// directories, free ports, waiting on backend status, and finding leftover stand-in processes.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { closedPort } from '../helpers/cli.ts'
import type { BackendStatus, PetalsBackend } from '../../src/petals-bridge/index.ts'

// Keep Python from writing __pycache__ directories into test/fixtures/petals (all children inherit this).
process.env.PYTHONDONTWRITEBYTECODE = '1'

const here = fileURLToPath(new URL('.', import.meta.url))
export const REPO = resolve(here, '..', '..')
export const STANDIN = join(REPO, 'test', 'fixtures', 'petals')
export const MODELS = join(REPO, 'test', 'fixtures', 'models')
export const HUB = join(MODELS, 'hub')
export const TINY_LLAMA_DIR = join(MODELS, 'local', 'TinyLlama-1.1B-Chat-v1.0')
export const PYTHON = 'python3'

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir (prefix = 'petalmesh-bridge-'): { dir: string, cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => { rmSync(dir, { recursive: true, force: true }) } }
}

/** Environment that makes `python3` import the stand-in and find the model fixtures, with fast timings. */
export function standinEnv (stateDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PYTHONPATH: STANDIN,
    HF_HUB_CACHE: HUB,
    PETALS_STANDIN_STATE_DIR: stateDir,
    PETALS_STANDIN_STEP_MS: '5',
    PETALS_STANDIN_LOAD_MS_PER_BLOCK: '20',
    PETALS_STANDIN_SHUTDOWN_MS: '10',
    PETALS_STANDIN_RETRY_MS: '30',
    ...extra
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort (): Promise<number> {
  // The same allocator as the daemon tests' (outside the ephemeral range, never twice per process).
  return await closedPort()
}

/** Resolve with the first status (current or future) matching `predicate`. */
export async function waitForStatus (backend: PetalsBackend, predicate: (s: BackendStatus) => boolean, timeoutMs = 15_000): Promise<BackendStatus> {
  const now = backend.status()
  if (predicate(now)) return now
  return await new Promise((resolveStatus, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`timed out waiting for status; last: ${JSON.stringify(backend.status())}`))
    }, timeoutMs)
    const off = backend.onStatus((s) => {
      if (predicate(s)) {
        clearTimeout(timer)
        off()
        resolveStatus(s)
      }
    })
  })
}

/** Record every status the backend goes through. */
export function recordStates (backend: PetalsBackend): { states: BackendStatus[], stop: () => void } {
  const states: BackendStatus[] = [backend.status()]
  const stop = backend.onStatus((s) => { states.push(s) })
  return { states, stop }
}

/** Pids of live processes whose environment carries PETALS_STANDIN_STATE_DIR=<stateDir>. */
export function standinProcesses (stateDir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8')
      if (environ.split('\0').includes(`PETALS_STANDIN_STATE_DIR=${stateDir}`)) pids.push(Number(entry))
    } catch {
      // gone, or not ours
    }
  }
  return pids
}

/** Kill whatever a failed test left behind (best effort), so one failure does not poison the others. */
export function killStandins (stateDir: string): void {
  for (const pid of standinProcesses(stateDir)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

export interface ArgvRecord {
  argv: string[]
  cwd: string
  pid: number
  pgid: number
  env: Record<string, string | null>
}

/** The argv records the stand-in wrote, oldest first. */
export function argvRecords (stateDir: string): ArgvRecord[] {
  let entries: string[] = []
  try {
    entries = readdirSync(stateDir).filter((f) => /^argv-\d+\.json$/.test(f))
  } catch {
    return []
  }
  return entries
    .map((f) => ({ at: statSync(join(stateDir, f)).mtimeMs, rec: JSON.parse(readFileSync(join(stateDir, f), 'utf8')) as ArgvRecord }))
    .sort((a, b) => a.at - b.at)
    .map((x) => x.rec)
}

export interface ServerRecord { pid: number, pgid: number, p2pdPid?: number, peerId?: string, port?: number, failure: string | null }

export function serverRecords (stateDir: string): ServerRecord[] {
  let entries: string[] = []
  try {
    entries = readdirSync(stateDir).filter((f) => /^server-\d+\.json$/.test(f))
  } catch {
    return []
  }
  return entries.map((f) => JSON.parse(readFileSync(join(stateDir, f), 'utf8')) as ServerRecord)
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
