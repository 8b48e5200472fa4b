// Core data shared by the swarm view, the planner, the router and the simulator.
// Plain data only: no I/O, no libp2p types, so every consumer can be tested as pure code.

/** Lifecycle state a node announces in its record. */
export type NodeState = 'standby' | 'joining' | 'loading' | 'online' | 'leaving' | 'offline'

export const NODE_STATES: readonly NodeState[] = ['standby', 'joining', 'loading', 'online', 'leaving', 'offline']

/** A half-open range of transformer blocks `[start, end)`, as Petals' `--block_indices start:end`. */
export interface Span {
  start: number
  end: number
}

/** What the planner and router need to know about one member of a swarm. */
export interface MemberInfo {
  /** libp2p peer id (string form) of the petalmesh node. */
  peerId: string
  /** Announced state. Only `online` members serve traffic; `joining`/`loading` members hold a claim. */
  state: NodeState
  /** Served or claimed span; null when the node serves nothing (standby, client). */
  span: Span | null
  /** Max contiguous blocks this node can hold. */
  capacity: number
  /** Tokens/s, Petals' meaning: the node's throughput for any one of its blocks. */
  throughput: number
}

export function spanLength (span: Span): number {
  return span.end - span.start
}

export function spanContains (span: Span, block: number): boolean {
  return block >= span.start && block < span.end
}

export function formatSpan (span: Span | null): string {
  return span == null ? '-' : `${span.start}:${span.end}`
}
