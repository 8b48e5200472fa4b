// How a backend state reads in the node's announced record (protocols/types.ts NodeState).

import type { NodeState } from '../protocols/types.ts'
import type { BackendState } from './types.ts'

const MAP: Readonly<Record<BackendState, NodeState>> = {
  stopped: 'standby',
  waiting: 'joining', // a span to serve, not launched yet (waiting for the swarm's seed)
  starting: 'joining',
  loading: 'loading',
  online: 'online',
  stopping: 'leaving',
  crashed: 'joining', // restarting after a backoff: the claim on the span still stands
  failed: 'standby' // gave up; lastError says why
}

export function toNodeState (state: BackendState): NodeState {
  return MAP[state]
}
