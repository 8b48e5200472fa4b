// The choice of a Petals server's initial peers, and of the one node that founds the swarm while
// no member's Petals DHT is up (src/node/petals-seed.ts).
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { chooseInitialPeers, MAX_INITIAL_PEERS, petalsDhtUp, type SeedMember } from '../../src/node/petals-seed.ts'
import type { NodeState } from '../../src/protocols/types.ts'

const maddr = (id: string, port = 31330): string => `/ip4/10.0.0.1/tcp/${port}/p2p/Qm${id}`

function member (peerId: string, state: NodeState, petals?: { state: string, dhtReady?: boolean, addrs?: string[] } | null): SeedMember {
  return {
    peerId,
    state,
    petals: petals == null
      ? null
      : { peerId: `Qm${peerId}`, multiaddrs: petals.addrs ?? [maddr(peerId)], state: petals.state, ...(petals.dhtReady != null ? { dhtReady: petals.dhtReady } : {}) }
  }
}

const self = (peerId: string, launched = false): { peerId: string, petalsPeerId: string, launched: boolean } => ({ peerId, petalsPeerId: `Qm${peerId}`, launched })

describe('chooseInitialPeers: some member\'s DHT is up', () => {
  it('takes the members whose DHT is up, online servers first, never its own server', () => {
    const d = chooseInitialPeers({
      self: self('C'),
      members: [
        member('A', 'loading', { state: 'loading', dhtReady: true }),
        member('B', 'online', { state: 'online', dhtReady: true }),
        member('D', 'joining', { state: 'starting', dhtReady: false }), // launched, DHT not up yet
        member('E', 'online', { state: 'online', dhtReady: false }), // reached through relays: client-mode DHT
        member('C', 'online', { state: 'online', dhtReady: true }) // a stale entry of ourselves
      ]
    })
    expect(d).toEqual({ action: 'join', initialPeers: [maddr('B'), maddr('A')] })
  })

  it('counts a loading server whose DHT is up (weights take minutes; its DHT answers from "Running a server on")', () => {
    const d = chooseInitialPeers({ self: self('B'), members: [member('A', 'loading', { state: 'starting', dhtReady: true })] })
    expect(d).toEqual({ action: 'join', initialPeers: [maddr('A')] })
  })

  it('does not count a member going standby or leaving (its server is being stopped)', () => {
    const d = chooseInitialPeers({
      self: self('C'),
      members: [member('A', 'standby', { state: 'online', dhtReady: true }), member('B', 'leaving', { state: 'online', dhtReady: true })]
    })
    expect(d).toEqual({ action: 'found' })
  })

  it('believes a record of an older node without dht_ready only when it is online', () => {
    expect(petalsDhtUp(member('A', 'online', { state: 'online' }))).toBe(true)
    expect(petalsDhtUp(member('A', 'loading', { state: 'loading' }))).toBe(false)
    expect(petalsDhtUp(member('A', 'online', { state: 'crashed' }))).toBe(false)
    expect(petalsDhtUp(member('A', 'online', { state: 'online', dhtReady: false }))).toBe(false)
    expect(petalsDhtUp(member('A', 'online', { state: 'online', dhtReady: true, addrs: [] }))).toBe(false)
    expect(petalsDhtUp(member('A', 'online', null))).toBe(false)
  })

  it('never passes the same address twice, and at most 16', () => {
    const many = Array.from({ length: 12 }, (_, i) => member(`M${String(i).padStart(2, '0')}`, 'online', {
      state: 'online', dhtReady: true, addrs: [maddr(`M${i}`, 1000 + i), maddr(`M${i}`, 2000 + i), maddr('shared', 1)]
    }))
    const d = chooseInitialPeers({ self: self('Z'), members: many })
    expect(d.action).toBe('join')
    if (d.action !== 'join') return
    expect(d.initialPeers).toHaveLength(MAX_INITIAL_PEERS)
    expect(new Set(d.initialPeers).size).toBe(d.initialPeers.length)
    expect(d.initialPeers.slice(0, 3)).toEqual([maddr('M0', 1000), maddr('M0', 2000), maddr('shared', 1)])
  })
})

describe('chooseInitialPeers: no member\'s DHT is up (cold start)', () => {
  it('the smallest peer id among the nodes that will serve founds the swarm; the others wait for it', () => {
    const members = [member('B', 'joining', { state: 'waiting' }), member('C', 'joining', null), member('A', 'joining', { state: 'waiting' })]
    expect(chooseInitialPeers({ self: self('A'), members })).toEqual({ action: 'found' })
    expect(chooseInitialPeers({ self: self('B'), members })).toEqual({ action: 'wait', seed: 'A' })
    expect(chooseInitialPeers({ self: self('C'), members })).toEqual({ action: 'wait', seed: 'A' })
  })

  it('counts a pending newcomer (no span yet) of the cohort: the first to claim does not found while a smaller id still decides', () => {
    // B claims first; A is still pending (joining, no Petals info yet).
    expect(chooseInitialPeers({ self: self('B'), members: [member('A', 'joining', null)] })).toEqual({ action: 'wait', seed: 'A' })
  })

  it('ignores spares, leaving and offline members as seeds', () => {
    const members = [member('A', 'standby', null), member('B', 'leaving', { state: 'stopping' }), member('C', 'offline', { state: 'waiting' })]
    expect(chooseInitialPeers({ self: self('D'), members })).toEqual({ action: 'found' })
  })

  it('a launched server stays the seed: a later node with a smaller id waits for it instead of founding a second swarm', () => {
    const founder = member('M', 'loading', { state: 'starting', dhtReady: false })
    expect(chooseInitialPeers({ self: self('A'), members: [founder] })).toEqual({ action: 'wait', seed: 'M' })
    // A founder restarting after a crash is still launched, on its own side and in the others' views.
    const crashed = member('M', 'loading', { state: 'crashed', dhtReady: false })
    expect(chooseInitialPeers({ self: self('A'), members: [crashed] })).toEqual({ action: 'wait', seed: 'M' })
    expect(chooseInitialPeers({ self: self('M', true), members: [member('A', 'joining', { state: 'waiting' })] })).toEqual({ action: 'found' })
  })

  it('the next one takes over when the seed goes', () => {
    const b = member('B', 'joining', { state: 'waiting' })
    expect(chooseInitialPeers({ self: self('C'), members: [member('A', 'joining', { state: 'waiting' }), b] })).toEqual({ action: 'wait', seed: 'A' })
    expect(chooseInitialPeers({ self: self('C'), members: [b] })).toEqual({ action: 'wait', seed: 'B' })
    expect(chooseInitialPeers({ self: self('B'), members: [member('C', 'joining', { state: 'waiting' })] })).toEqual({ action: 'found' })
  })

  it('alone: founds', () => {
    expect(chooseInitialPeers({ self: self('A'), members: [] })).toEqual({ action: 'found' })
  })
})

describe('chooseInitialPeers: properties', () => {
  const states: NodeState[] = ['standby', 'joining', 'loading', 'online', 'leaving', 'offline']
  const running = ['starting', 'loading', 'online'] // a launched server: the bridge may say its DHT is up
  const notRunning = ['stopped', 'waiting', 'stopping', 'crashed', 'failed']
  const arbPetals = fc.oneof(
    fc.record({ state: fc.constantFrom(...running), dhtReady: fc.option(fc.boolean(), { nil: undefined }) }),
    fc.record({ state: fc.constantFrom(...notRunning), dhtReady: fc.constantFrom(false, undefined) })
  )
  const arbMember = fc.record({ id: fc.integer({ min: 0, max: 30 }), state: fc.constantFrom(...states), petals: fc.option(arbPetals, { nil: null }) })
  const arbView = fc.uniqueArray(arbMember, { selector: m => m.id, minLength: 1, maxLength: 12 })
    .map(ms => ms.map(m => member(`P${String(m.id).padStart(2, '0')}`, m.state, m.petals)))
  const willServe = (m: SeedMember): boolean => m.state === 'joining' || m.state === 'loading' || m.state === 'online'

  it('with the same view, all agree on one seed: at most one node founds a swarm, exactly one when nothing runs yet', () => {
    fc.assert(fc.property(arbView, (view) => {
      const servers = view.filter(willServe)
      // Those about to launch ask; a crashed server asks again before its restart.
      const askers = servers.filter(m => m.petals == null || !running.includes(m.petals.state))
      const decisions = askers.map(m => chooseInitialPeers({
        self: { peerId: m.peerId, petalsPeerId: m.petals?.peerId ?? null, launched: m.petals?.state === 'crashed' },
        members: view
      }))
      const founders = askers.filter((_, i) => decisions[i].action === 'found').map(m => m.peerId)
      const awaited = new Set(decisions.flatMap(d => d.action === 'wait' ? [d.seed] : []))
      if (servers.some(m => petalsDhtUp(m))) {
        expect(decisions.every(d => d.action === 'join')).toBe(true)
        return
      }
      expect(founders.length).toBeLessThanOrEqual(1)
      expect(new Set([...founders, ...awaited]).size).toBeLessThanOrEqual(1)
      // No server running (a cold start, or only crashed ones about to restart): one of those asking
      // must found, or all would wait for ever.
      if (askers.length > 0 && !servers.some(m => m.petals != null && running.includes(m.petals.state))) {
        expect(founders).toHaveLength(1)
      }
    }), { numRuns: 500 })
  })

  it('never names our own server, never more than 16 addresses', () => {
    fc.assert(fc.property(arbView, fc.integer({ min: 0, max: 30 }), (view, me) => {
      const selfId = `P${String(me).padStart(2, '0')}`
      const d = chooseInitialPeers({ self: { peerId: selfId, petalsPeerId: `Qm${selfId}`, launched: false }, members: view })
      if (d.action === 'join') {
        expect(d.initialPeers.length).toBeGreaterThan(0)
        expect(d.initialPeers.length).toBeLessThanOrEqual(MAX_INITIAL_PEERS)
        expect(d.initialPeers.some(a => a.endsWith(`/p2p/Qm${selfId}`))).toBe(false)
      }
    }), { numRuns: 300 })
  })
})
