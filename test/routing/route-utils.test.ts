import { describe, expect, it } from 'vitest'
import { findRoute, firstAffectedHop, formatRoute, initialPeers, routeAffected } from '../../src/protocols/routing/index.ts'
import { routeOf, srv } from './helpers.ts'

const route = routeOf(findRoute({
  totalBlocks: 8,
  mode: 'min-latency',
  servers: [
    srv('peerAAAAAA1', 0, 5, 100, { petalsPeerId: 'QmA', petalsMultiaddrs: ['/ip4/10.0.0.1/tcp/31337', '/ip4/10.0.0.1/tcp/31337/p2p/QmA'] }),
    srv('peerBBBBBB2', 4, 8, 100, { petalsPeerId: 'QmB', petalsMultiaddrs: ['/ip4/10.0.0.2/tcp/31337/p2p/QmB', '/ip4/10.0.0.1/tcp/31337/p2p/QmA'] }),
    srv('peerCCCCCC3', 0, 8, 1)
  ]
}))

describe('route helpers', () => {
  it('the fixture route is A[0,5) then B[5,8)', () => {
    expect(formatRoute(route)).toBe('0:5 via …AAAAA1 => 5:8 via …BBBBB2')
  })

  it('initialPeers lists Petals multiaddrs in route order, deduplicated, with /p2p/ ids', () => {
    expect(initialPeers(route)).toEqual([
      '/ip4/10.0.0.1/tcp/31337/p2p/QmA',
      '/ip4/10.0.0.2/tcp/31337/p2p/QmB'
    ])
  })

  it('routeAffected flags departures, failures, state changes and shrunk spans of route members', () => {
    expect(routeAffected(route, { kind: 'left', peerId: 'peerBBBBBB2' })).toBe(true)
    expect(routeAffected(route, { kind: 'failed', peerId: 'peerAAAAAA1' })).toBe(true)
    expect(firstAffectedHop(route, { kind: 'failed', peerId: 'peerBBBBBB2' })).toBe(1)
    const member = (peerId: string, state: 'online' | 'leaving', start: number, end: number): { kind: 'updated', member: { peerId: string, state: 'online' | 'leaving', span: { start: number, end: number } } } =>
      ({ kind: 'updated', member: { peerId, state, span: { start, end } } })
    expect(routeAffected(route, member('peerAAAAAA1', 'leaving', 0, 5))).toBe(true)
    expect(routeAffected(route, member('peerAAAAAA1', 'online', 1, 5))).toBe(true)
    expect(routeAffected(route, member('peerBBBBBB2', 'online', 4, 7))).toBe(true)
    expect(routeAffected(route, { kind: 'updated', member: { peerId: 'peerBBBBBB2', state: 'online', span: null } })).toBe(true)
  })

  it('routeAffected ignores harmless changes', () => {
    // B only uses 5..7 of its span, so losing block 4 does not matter; growing never matters.
    expect(routeAffected(route, { kind: 'updated', member: { peerId: 'peerBBBBBB2', state: 'online', span: { start: 5, end: 8 } } })).toBe(false)
    expect(routeAffected(route, { kind: 'updated', member: { peerId: 'peerAAAAAA1', state: 'online', span: { start: 0, end: 8 } } })).toBe(false)
    // Not in the route.
    expect(routeAffected(route, { kind: 'left', peerId: 'peerCCCCCC3' })).toBe(false)
    expect(firstAffectedHop(route, { kind: 'failed', peerId: 'nobody' })).toBe(-1)
  })
})
