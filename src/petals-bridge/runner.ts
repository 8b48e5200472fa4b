// What the supervisor drives: something that serves one span until it exits (a Petals process, or a
// simulation of one). One RunHandle per launch.

import type { Span } from '../protocols/types.ts'
import type { Failure } from './failures.ts'
import type { PetalsEvent } from './log-events.ts'
import type { BackendLogLine } from './types.ts'

export interface RunExit {
  /** Exit code, or null when the run ended by a signal. */
  code: number | null
  signal: string | null
  /** The classified failure, if the run failed in a recognised way. */
  failure: Failure | null
  /** The run ended because stop() was called. */
  requested: boolean
}

export interface RunHandle {
  /** Resolves once the run is over and nothing of it is left (no process of its group). */
  readonly exited: Promise<RunExit>
  /** Graceful stop (SIGINT, then SIGKILL after the grace period); resolves like `exited`. */
  stop (): Promise<void>
}

export interface RunSink {
  event (event: PetalsEvent): void
  log (line: BackendLogLine): void
}

export interface Runner {
  readonly kind: 'petals' | 'simulated'
  /** Launch a run serving `span`. Throws (before launching anything) if the configuration cannot work. */
  start (span: Span, initialPeers: string[], sink: RunSink): Promise<RunHandle>
}
