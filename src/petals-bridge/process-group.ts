// Process groups: Petals runs in its own group (detached), together with its forked handlers, its DHT
// process and p2pd. Signals go to the whole group; "gone" means no live (non-zombie) member is left.

import { readdirSync, readFileSync } from 'node:fs'

export type Signal = 'SIGINT' | 'SIGTERM' | 'SIGKILL'

/** Send `signal` to every process of group `pgid`; false if the group no longer exists. */
export function signalGroup (pgid: number, signal: Signal): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw err
  }
}

interface ProcStat { pid: number, state: string, pgrp: number }

function readStat (pid: string): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { pid: Number(pid), state: rest[0], pgrp: Number(rest[2]) }
  } catch {
    return null
  }
}

const hasProc = (() => {
  try {
    readdirSync('/proc/self')
    return true
  } catch {
    return false
  }
})()

/** Live members of group `pgid` (zombies excluded). Without /proc, returns [pgid] while the group answers signal 0. */
export function groupMembers (pgid: number): number[] {
  if (!hasProc) {
    try {
      process.kill(-pgid, 0)
      return [pgid]
    } catch {
      return []
    }
  }
  const members: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readStat(entry)
    if (stat != null && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') members.push(stat.pid)
  }
  return members
}

export function groupAlive (pgid: number): boolean {
  return groupMembers(pgid).length > 0
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Wait until the group has no live member; false on timeout. */
export async function waitGroupGone (pgid: number, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!groupAlive(pgid)) return true
    if (Date.now() >= deadline) return false
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())))
  }
}

/** SIGKILL the group and wait (bounded) until nothing is left. Returns the pids still alive, if any. */
export async function killGroup (pgid: number, timeoutMs = 5_000): Promise<number[]> {
  signalGroup(pgid, 'SIGKILL')
  if (await waitGroupGone(pgid, timeoutMs)) return []
  return groupMembers(pgid)
}
