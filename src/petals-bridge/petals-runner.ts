// Running one Petals server process: launch in its own process group from a clean working directory,
// stream its output line by line (node logger, rotating file, lifecycle parser), stop it with SIGINT to the
// group (Petals' graceful path), SIGKILL after the grace period, and make sure no group member survives.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import type { Span } from '../protocols/types.ts'
import { buildServerCommand, RUN_SERVER_MODULE } from './command.ts'
import type { PetalsReachabilityHint } from './reachability-args.ts'
import type { PetalsConfig } from './config.ts'
import { makeFailure } from './failures.ts'
import type { Failure } from './failures.ts'
import { LineSplitter } from './line-splitter.ts'
import { PetalsLogParser } from './log-events.ts'
import type { PetalsEvent } from './log-events.ts'
import { levelOf, parseLogRecord } from './log-format.ts'
import type { BridgeLogger } from './logger.ts'
import type { ModelMetadata } from './model-metadata.ts'
import { groupAlive, groupMembers, killGroup, signalGroup, waitGroupGone } from './process-group.ts'
import type { RotatingLogFile } from './rotating-log.ts'
import type { RunExit, RunHandle, Runner, RunSink } from './runner.ts'

export interface PetalsRunnerOptions {
  config: PetalsConfig
  metadata: ModelMetadata
  identityPath: string
  peerId: string
  /** Clean working directory Petals runs from. */
  workDir: string
  /** Extra environment for the Petals process (added to the inherited one). */
  env?: Record<string, string | undefined>
  logger: BridgeLogger
  logFile: RotatingLogFile | null
  /** Where the running server's process group is recorded, so a later daemon can clean up after a crash. */
  pidFile?: string
  /** How the node is reachable now (read at each launch): picks Petals' --public_ip. */
  reachability?: () => PetalsReachabilityHint | null
}

/** Process groups of running Petals servers, interrupted (gracefully) if this node exits abruptly. */
const liveGroups = new Set<number>()
let exitHookInstalled = false
function trackGroup (pgid: number): void {
  liveGroups.add(pgid)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', () => {
      for (const group of liveGroups) signalGroup(group, 'SIGINT')
    })
  }
}

/**
 * A Petals server left running by a previous daemon that died abruptly (recorded in `pidFile`): stop it
 * (SIGINT, then SIGKILL after `graceMs`) so its port and identity are free. Returns the group it stopped.
 */
export async function reapStaleServer (pidFile: string, graceMs: number, logger: BridgeLogger): Promise<number | null> {
  let pgid: number
  try {
    pgid = Number((JSON.parse(readFileSync(pidFile, 'utf8')) as { pgid?: unknown }).pgid)
  } catch {
    return null
  }
  rmSync(pidFile, { force: true })
  if (!Number.isInteger(pgid) || pgid <= 1 || !groupAlive(pgid)) return null
  let cmdline = ''
  try {
    cmdline = readFileSync(`/proc/${pgid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {}
  if (cmdline !== '' && !cmdline.includes(RUN_SERVER_MODULE)) return null // the pid was reused by something else
  logger.warn({ component: 'petals-bridge', pgid }, `stopping a Petals server left over from a previous run (process group ${pgid})`)
  signalGroup(pgid, 'SIGINT')
  if (!(await waitGroupGone(pgid, graceMs))) await killGroup(pgid)
  return pgid
}

/** Make `dir` an empty directory: Petals (configargparse) silently reads ./config.yml from its cwd. */
export function prepareWorkDir (dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true })
}

export class PetalsProcessRunner implements Runner {
  readonly kind = 'petals' as const
  private readonly opts: PetalsRunnerOptions

  constructor (opts: PetalsRunnerOptions) {
    this.opts = opts
  }

  async start (span: Span, initialPeers: string[], sink: RunSink): Promise<RunHandle> {
    const { config } = this.opts
    const command = buildServerCommand({
      config,
      metadata: this.opts.metadata,
      span,
      initialPeers,
      identityPath: this.opts.identityPath,
      ownPeerId: this.opts.peerId,
      workDir: this.opts.workDir,
      reachability: this.opts.reachability?.() ?? null,
      env: { ...process.env, ...this.opts.env }
    })
    prepareWorkDir(this.opts.workDir)
    this.opts.logger.info({ component: 'petals-bridge', network: command.networkReason }, `Petals network flags: ${command.networkReason}`)
    return new PetalsRun(command.command, command.args, { ...this.opts.env, ...command.env }, this.opts.workDir, config, sink, this.opts)
  }
}

const PROGRESS_BAR = /\d+%\|/

class PetalsRun implements RunHandle {
  readonly exited: Promise<RunExit>
  private resolveExit!: (exit: RunExit) => void
  private readonly pgid: number | null
  private readonly pidFile: string | null
  private readonly parser: PetalsLogParser
  private readonly graceMs: number
  private readonly sink: RunSink
  private readonly logger: BridgeLogger
  private readonly logFile: RotatingLogFile | null
  private failure: Failure | null = null
  private stopRequested = false
  private terminating: Promise<void> | null = null
  private leaderExit: { code: number | null, signal: string | null } | null = null
  private readonly leaderExited: Promise<void>
  private watchdog: NodeJS.Timeout | null = null
  private lastProgressAt = 0
  private outputDrained: Promise<void> = Promise.resolve()

  constructor (file: string, args: string[], env: Record<string, string | undefined>, cwd: string,
    config: PetalsConfig, sink: RunSink, opts: PetalsRunnerOptions) {
    this.exited = new Promise((resolve) => { this.resolveExit = resolve })
    this.parser = new PetalsLogParser({ stuckDownloadRetries: config.stuckDownloadRetries })
    this.graceMs = config.stopGraceMs
    this.sink = sink
    this.logger = opts.logger
    this.logFile = opts.logFile

    this.bridgeLine('info', `starting ${file} ${args.slice(0, 4).join(' ')} ... (cwd ${cwd})`)
    const child = execa(file, args, {
      cwd,
      env,
      extendEnv: true,
      detached: true,
      cleanup: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      forceKillAfterDelay: false,
      windowsHide: true
    })
    child.catch(() => {}) // outcome is observed through 'exit'/'error' below
    this.pgid = child.pid ?? null
    this.pidFile = opts.pidFile ?? null
    if (this.pgid != null) {
      trackGroup(this.pgid)
      if (this.pidFile != null) {
        try {
          writeFileSync(this.pidFile, JSON.stringify({ pgid: this.pgid, startedAt: new Date().toISOString() }) + '\n')
        } catch {}
      }
    }

    const drained: Array<Promise<void>> = []
    for (const [stream, name] of [[child.stdout, 'stdout'], [child.stderr, 'stderr']] as const) {
      if (stream == null) continue
      const splitter = new LineSplitter()
      stream.on('data', (chunk: Buffer) => { for (const line of splitter.push(chunk)) this.onLine(line) })
      drained.push(new Promise((resolve) => {
        stream.once('end', () => {
          for (const line of splitter.end()) this.onLine(line)
          resolve()
        })
        stream.once('close', () => { resolve() })
        stream.once('error', (err) => {
          this.logger.debug({ err, stream: name }, 'petals output stream error')
          resolve()
        })
      }))
    }
    this.outputDrained = Promise.all(drained).then(() => {})

    this.leaderExited = new Promise((resolve) => {
      child.nodeChildProcess.on('exit', (code, signal) => {
        this.leaderExit = { code, signal }
        resolve()
      })
      child.nodeChildProcess.on('error', (err: NodeJS.ErrnoException) => {
        if (this.leaderExit != null) return
        if (child.pid == null || err.code === 'ENOENT') {
          this.failure ??= err.code === 'ENOENT' ? makeFailure('python-missing', `${file}: ${err.message}`) : makeFailure('exited', err.message)
          this.leaderExit = { code: null, signal: null }
          resolve()
        }
      })
    })
    void this.leaderExited.then(async () => { await this.finish() })
  }

  async stop (): Promise<void> {
    this.stopRequested = true
    await this.terminate()
    await this.exited
  }

  private onLine (line: string): void {
    if (line.trim() === '') return
    const now = Date.now()
    if (PROGRESS_BAR.test(line) && !/100%\|/.test(line)) {
      if (now - this.lastProgressAt < 1000) return // tqdm redraws many times a second
      this.lastProgressAt = now
    }
    this.logFile?.write(line)
    const record = parseLogRecord(line)
    const level = levelOf(record)
    this.logger[level]({ component: 'petals', pid: this.pgid }, line)
    this.sink.log({ ts: now, source: 'petals', level, text: line })
    for (const event of this.parser.push(line)) this.onEvent(event)
  }

  private onEvent (event: PetalsEvent): void {
    if (event.event === 'crashed') {
      this.failure ??= { kind: event.reason, message: event.message, hint: event.hint, permanent: event.permanent }
      if (event.reason === 'stuck-download' || event.reason === 'disk-space') {
        this.bridgeLine('warn', `${event.message}; stopping the server`)
        void this.terminate()
      } else if (this.watchdog == null && !this.stopRequested) {
        // A fatal error was printed: make sure the process does not hang around half-dead.
        this.watchdog = setTimeout(() => { void this.terminate() }, this.graceMs)
        this.watchdog.unref?.()
      }
    }
    this.sink.event(event)
  }

  /** SIGINT to the group, SIGKILL after the grace period; resolves when the group leader has exited. */
  private async terminate (): Promise<void> {
    if (this.terminating != null) return await this.terminating
    this.terminating = (async () => {
      if (this.pgid == null || this.leaderExit != null) return
      this.bridgeLine('info', `sending SIGINT to Petals (process group ${this.pgid})`)
      signalGroup(this.pgid, 'SIGINT')
      const graceful = await Promise.race([
        this.leaderExited.then(() => true),
        new Promise<boolean>((resolve) => { setTimeout(() => { resolve(false) }, this.graceMs).unref?.() })
      ])
      if (!graceful) {
        this.bridgeLine('warn', `Petals did not stop within ${this.graceMs} ms; sending SIGKILL to its process group`)
        signalGroup(this.pgid, 'SIGKILL')
        await this.leaderExited
      }
    })()
    await this.terminating
  }

  /** After the leader exited: let the rest of the group (p2pd, forked handlers) go, kill what lingers. */
  private async finish (): Promise<void> {
    if (this.watchdog != null) clearTimeout(this.watchdog)
    if (this.pgid != null) {
      const settleMs = Math.min(this.graceMs, 3_000)
      if (!(await waitGroupGone(this.pgid, settleMs))) {
        this.bridgeLine('warn', `processes ${groupMembers(this.pgid).join(', ')} of Petals' group outlived it; killing them`)
        const left = await killGroup(this.pgid, 5_000)
        if (left.length > 0) this.bridgeLine('error', `processes ${left.join(', ')} survive SIGKILL`)
      }
      liveGroups.delete(this.pgid)
      if (this.pidFile != null) rmSync(this.pidFile, { force: true })
    }
    // The exit can be seen before the last output (the traceback that says why): read it all first.
    await Promise.race([this.outputDrained, new Promise((resolve) => { setTimeout(resolve, 2_000).unref?.() })])
    const exit = this.leaderExit ?? { code: null, signal: null }
    const requested = this.stopRequested
    this.bridgeLine(requested || exit.code === 0 ? 'info' : 'warn',
      `Petals exited (${exit.signal != null ? `signal ${exit.signal}` : `code ${String(exit.code)}`})${requested ? ' after a stop request' : ''}`)
    this.resolveExit({ code: exit.code, signal: exit.signal, failure: this.failure, requested })
  }

  private bridgeLine (level: 'info' | 'warn' | 'error', text: string): void {
    this.logger[level]({ component: 'petals-bridge', pid: this.pgid }, text)
    this.logFile?.write(`[petalmesh] ${new Date().toISOString()} ${text}`)
    this.sink.log({ ts: Date.now(), source: 'bridge', level, text })
  }
}
