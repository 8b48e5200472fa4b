// The AutoNAT dial-back fix: a single-multiaddr dial (the AutoNAT server's dial-back) always opens a
// new connection; other dials and every other connection-manager method are passed through unchanged.
import { describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import type { ConnectionManager } from '@libp2p/interface-internal'
import { forceSingleAddrDials } from '../../src/node/reachability/autonat-dialback.ts'

function recordingManager (): { cm: ConnectionManager, calls: Array<{ target: unknown, options: unknown }> } {
  const calls: Array<{ target: unknown, options: unknown }> = []
  const base = {
    maxConnections: 7,
    openConnection: async (target: unknown, options?: unknown) => { calls.push({ target, options }); return { id: 'c1' } },
    getMaxConnections () { return this.maxConnections }
  }
  return { cm: base as unknown as ConnectionManager, calls }
}

describe('forceSingleAddrDials', () => {
  const addr = multiaddr('/ip4/11.0.0.1/tcp/4001/p2p/12D3KooWGLfam2QDpFTYtvn4nUaEdBw8qyStG3LWsXAhJXyK971Y')

  it('forces a new connection for a single multiaddr, keeping the caller\'s options', async () => {
    const { cm, calls } = recordingManager()
    const signal = AbortSignal.timeout(1000)
    await forceSingleAddrDials(cm).openConnection(addr, { signal })
    expect(calls).toHaveLength(1)
    expect(calls[0].options).toEqual({ signal, force: true })
  })

  it('leaves dials to a peer id or a list of addresses alone', async () => {
    const { cm, calls } = recordingManager()
    const wrapped = forceSingleAddrDials(cm)
    await wrapped.openConnection([addr])
    await wrapped.openConnection(peerIdFromString('12D3KooWGLfam2QDpFTYtvn4nUaEdBw8qyStG3LWsXAhJXyK971Y'), { priority: 5 })
    expect(calls.map(c => c.options)).toEqual([undefined, { priority: 5 }])
  })

  it('passes every other method and property through, bound to the real manager', () => {
    const { cm } = recordingManager()
    const wrapped = forceSingleAddrDials(cm)
    expect(wrapped.getMaxConnections()).toBe(7)
  })
})
