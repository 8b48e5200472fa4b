// The bridge's public contract with the node daemon (see index.ts).

import type { Span } from '../protocols/types.ts'

export type BackendState = 'stopped' | 'starting' | 'loading' | 'online' | 'stopping' | 'crashed' | 'failed'

export interface BackendError {
  /** A FailureKind (failures.ts) such as 'cuda-oom', or 'invalid-config'. */
  kind: string
  message: string
  hint: string
}

export interface BackendStatus {
  state: BackendState
  span: Span | null
  loading: { done: number, total: number } | null
  /** Known before launch from the identity file. */
  petalsPeerId: string | null
  /** Hivemind multiaddrs to announce (/ip4/../tcp/PORT/p2p/PEERID). */
  petalsMultiaddrs: string[]
  restarts: number
  lastError: BackendError | null
}

export type LogSource = 'petals' | 'bridge'

export interface BackendLogLine {
  ts: number
  source: LogSource
  level: string
  text: string
}

export interface SetSpanOptions {
  /** Hivemind multiaddrs of online Petals servers in the swarm view; empty = start a new swarm. */
  initialPeers?: string[]
}

export interface PetalsBackend {
  readonly kind: 'petals' | 'simulated'
  /** Serve this span (null = serve nothing). Restarts gracefully when the span changes; idempotent for the same span. */
  setSpan (span: Span | null, opts?: SetSpanOptions): Promise<void>
  status (): BackendStatus
  /** Returns an unsubscribe function. */
  onStatus (listener: (s: BackendStatus) => void): () => void
  onLog (listener: (line: BackendLogLine) => void): () => void
  /** Graceful stop, no process left behind. */
  close (): Promise<void>
}
