// The bridge's public contract with the node daemon (see index.ts).

import type { Span } from '../protocols/types.ts'

/** `waiting`: asked to serve a span, not launched yet: waiting for the initial peers (SetSpanOptions.resolveInitialPeers). */
export type BackendState = 'stopped' | 'waiting' | 'starting' | 'loading' | 'online' | 'stopping' | 'crashed' | 'failed'

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
  /**
   * The running server's DHT answers: it logged "Running a server on [...]" as a full DHT peer (not
   * "accessible via relays", whose DHT runs in client mode), and has not begun stopping or exited.
   * Only then can another Petals server use petalsMultiaddrs as its initial peers.
   */
  dhtReady: boolean
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

/** What a launch asks the initial-peers resolver. */
export interface InitialPeersRequest {
  span: Span
  /** A restart after a crash (the server was launched before). */
  restart: boolean
  /** Aborted when the launch is no longer wanted (another span, serve nothing, close). */
  signal: AbortSignal
}

/**
 * Called right before each launch (the first and every restart), so the peers are fresh each time;
 * may take long (wait for the swarm's seed). Empty = start a new swarm.
 */
export type InitialPeersResolver = (req: InitialPeersRequest) => Promise<string[]>

export interface SetSpanOptions {
  /** Hivemind multiaddrs of Petals servers whose DHT is up; empty = start a new swarm. */
  initialPeers?: string[]
  /** Asked before each launch instead of using `initialPeers`; the state is `waiting` until it answers. */
  resolveInitialPeers?: InitialPeersResolver
}

export interface PetalsBackend {
  readonly kind: 'petals' | 'simulated'
  /**
   * Whether the server joins a real Petals DHT: started without initial peers it founds a swarm of
   * its own (--new_swarm), so its launches must wait for the swarm's seed (node/petals-seed.ts).
   * False for the simulated backend, which joins nothing and never waits.
   */
  readonly needsInitialPeers: boolean
  /** Serve this span (null = serve nothing). Restarts gracefully when the span changes; idempotent for the same span. */
  setSpan (span: Span | null, opts?: SetSpanOptions): Promise<void>
  status (): BackendStatus
  /** Returns an unsubscribe function. */
  onStatus (listener: (s: BackendStatus) => void): () => void
  onLog (listener: (line: BackendLogLine) => void): () => void
  /** Graceful stop, no process left behind. */
  close (): Promise<void>
}
