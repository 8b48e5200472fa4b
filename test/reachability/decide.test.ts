import { describe, expect, it } from 'vitest'
import { decideReachability, dhtModeFor, natDetected, upnpEnabled, type ReachabilityInput } from '../../src/node/reachability/decide.ts'
import { petalsReachabilityArgs } from '../../src/petals-bridge/reachability-args.ts'

const base: ReachabilityInput = { override: 'auto', announced: false, ownIps: ['127.0.0.1', '192.168.1.20'], observedIps: [], verifiedPublic: [], mapped: [], relayAddrs: [] }
const RELAY = '/ip4/198.51.100.7/tcp/4001/p2p/12D3KooWRelay/p2p-circuit'

describe('natDetected', () => {
  it('sees a NAT when a peer saw us from an address that is not ours', () => {
    expect(natDetected(['10.0.1.2'], ['172.16.0.2'])).toBe(true)
    expect(natDetected(['10.0.1.2'], ['10.0.1.2'])).toBe(false)
    expect(natDetected(['10.0.1.2'], [])).toBe(false)
  })
  it('ignores loopback observations and IPv4-mapped IPv6 spellings of our own address', () => {
    expect(natDetected(['10.0.1.2'], ['127.0.0.1'])).toBe(false)
    expect(natDetected(['10.0.1.2'], ['::ffff:10.0.1.2'])).toBe(false)
  })
})

describe('decideReachability', () => {
  it('knows nothing before any peer reported our address', () => {
    const d = decideReachability(base)
    expect(d).toMatchObject({ reachability: 'unknown', dialable: null, natDetected: false })
  })
  it('direct when peers see our own address (same network, no NAT)', () => {
    expect(decideReachability({ ...base, observedIps: ['192.168.1.20'] })).toMatchObject({ reachability: 'direct', dialable: true })
  })
  it('behind a NAT: not dialable; relayed once a relay reservation is held', () => {
    const natted = { ...base, observedIps: ['203.0.113.9'] }
    expect(decideReachability(natted)).toMatchObject({ reachability: 'unknown', dialable: false, natDetected: true })
    expect(decideReachability({ ...natted, relayAddrs: [RELAY] })).toMatchObject({ reachability: 'relayed', dialable: false })
    expect(decideReachability(natted).reason).toContain('203.0.113.9')
  })
  it('an AutoNAT-verified public address wins over a NAT seen by peers (port forwarded)', () => {
    expect(decideReachability({ ...base, observedIps: ['203.0.113.9'], verifiedPublic: ['/ip4/203.0.113.9/tcp/31400'], relayAddrs: [RELAY] }))
      .toMatchObject({ reachability: 'direct', dialable: true, natDetected: true })
  })
  it('mapped when the router mapped our port (UPnP/NAT-PMP)', () => {
    expect(decideReachability({ ...base, observedIps: ['203.0.113.9'], mapped: ['/ip4/203.0.113.9/tcp/31400'] })).toMatchObject({ reachability: 'mapped', dialable: true })
  })
  it('configured announce addresses mean the operator forwards them: direct', () => {
    expect(decideReachability({ ...base, announced: true, observedIps: ['203.0.113.9'] })).toMatchObject({ reachability: 'direct', dialable: true })
  })
  it('the override wins over everything the network says', () => {
    expect(decideReachability({ ...base, override: 'public', observedIps: ['203.0.113.9'] })).toMatchObject({ reachability: 'direct', dialable: true })
    expect(decideReachability({ ...base, override: 'private', verifiedPublic: ['/ip4/203.0.113.9/tcp/1'] })).toMatchObject({ reachability: 'unknown', dialable: false })
    expect(decideReachability({ ...base, override: 'private', relayAddrs: [RELAY] })).toMatchObject({ reachability: 'relayed', dialable: false })
  })
})

describe('dhtModeFor', () => {
  it('a node peers cannot dial is a DHT client; unknown keeps the configured mode; client and off stay', () => {
    const d = (dialable: boolean | null): ReturnType<typeof decideReachability> => ({ reachability: 'unknown', dialable, natDetected: false, reason: '' })
    expect(dhtModeFor('server', d(false))).toBe('client')
    expect(dhtModeFor('server', d(null))).toBe('server')
    expect(dhtModeFor('server', d(true))).toBe('server')
    expect(dhtModeFor('client', d(true))).toBe('client')
    expect(dhtModeFor('off', d(false))).toBe('off')
  })
})

describe('upnpEnabled', () => {
  it('auto: only tcp nodes listening beyond loopback and not declared public', () => {
    expect(upnpEnabled('auto', 'tcp', ['/ip4/0.0.0.0/tcp/31400'], 'auto')).toBe(true)
    expect(upnpEnabled('auto', 'tcp', ['/ip4/127.0.0.1/tcp/0'], 'auto')).toBe(false)
    expect(upnpEnabled('auto', 'tcp', ['/ip6/::1/tcp/0'], 'auto')).toBe(false)
    expect(upnpEnabled('auto', 'memory', ['/memory/x'], 'auto')).toBe(false)
    expect(upnpEnabled('auto', 'tcp', ['/ip4/0.0.0.0/tcp/31400'], 'public')).toBe(false)
  })
  it('on and off are obeyed, but never on the memory transport', () => {
    expect(upnpEnabled('on', 'tcp', ['/ip4/127.0.0.1/tcp/0'], 'public')).toBe(true)
    expect(upnpEnabled('off', 'tcp', ['/ip4/0.0.0.0/tcp/31400'], 'auto')).toBe(false)
    expect(upnpEnabled('on', 'memory', ['/memory/x'], 'auto')).toBe(false)
  })
})

describe('petalsReachabilityArgs', () => {
  const cfg = { publicIp: null, announceMaddrs: [], port: 31330 }
  it('direct with a known public IPv4: --public_ip (Petals announces it with --port)', () => {
    expect(petalsReachabilityArgs(cfg, { reachability: 'direct', publicIp: '203.0.113.9' }).args).toEqual(['--public_ip', '203.0.113.9'])
  })
  it('direct with a public IPv6: --announce_maddrs with Petals\' port', () => {
    expect(petalsReachabilityArgs(cfg, { reachability: 'direct', publicIp: '2001:db8::5' }).args).toEqual(['--announce_maddrs', '/ip6/2001:db8::5/tcp/31330'])
  })
  it('direct without a public IP (a LAN swarm): nothing, Petals announces its interfaces', () => {
    expect(petalsReachabilityArgs(cfg, { reachability: 'direct', publicIp: null }).args).toEqual([])
  })
  it('mapped, relayed and unknown leave Petals\' own NAT traversal and relays on', () => {
    for (const r of ['mapped', 'relayed', 'unknown'] as const) {
      const out = petalsReachabilityArgs(cfg, { reachability: r, publicIp: '203.0.113.9' })
      expect(out.args).toEqual([])
      expect(out.args).not.toContain('--no_auto_relay')
    }
    expect(petalsReachabilityArgs(cfg, null).args).toEqual([])
  })
  it('the operator\'s petals.publicIp / announceMaddrs always win', () => {
    expect(petalsReachabilityArgs({ ...cfg, publicIp: '198.51.100.1' }, { reachability: 'direct', publicIp: '203.0.113.9' }).args).toEqual([])
    expect(petalsReachabilityArgs({ ...cfg, announceMaddrs: ['/ip4/198.51.100.1/tcp/31330'] }, { reachability: 'direct', publicIp: '203.0.113.9' }).args).toEqual([])
  })
})
