// `petalmesh doctor`'s reachability report: the pure text, and the whole path against a running daemon.
import { afterAll, describe, expect, it } from 'vitest'
import { reachabilityReport } from '../../src/node/reachability/report.ts'
import type { ReachabilityStatus } from '../../src/node/reachability/monitor.ts'
import { reachabilityDoctor } from '../../src/cli/reachability-doctor.ts'
import { killAllDaemons, removeTempDirs, startDaemon, getJson, pollUntil, makeTempDir } from '../helpers/cli.ts'

const RELAY = '/ip4/198.51.100.7/tcp/4001/p2p/12D3KooWRelayPeer/p2p-circuit'
const natted: ReachabilityStatus = {
  reachability: 'relayed', dialable: false, natDetected: true, reason: 'behind a NAT (peers see this node as 203.0.113.9); reachable through a relay',
  override: 'auto', dhtMode: 'client', listenPort: 31400, observedAddrs: ['/ip4/203.0.113.9/tcp/52011'], verifiedAddrs: [], mappedAddrs: [],
  relayAddrs: [RELAY], relayClient: { enabled: true, listening: true }, relayServer: { enabled: true, serving: false }, natTraversal: true,
  connections: { direct: 1, relayed: 1 }, gossipLinksRepaired: 0, since: 0
}

describe('reachabilityReport', () => {
  it('behind a NAT: names the ports to forward, the public IP to announce, and the relay in use', () => {
    const r = reachabilityReport({ status: natted, configuredPort: null, petalsPort: 31330 })
    const text = r.lines.join('\n')
    expect(r.forwardPorts).toEqual([31400, 31330])
    expect(text).toMatch(/^reachability: relayed — behind a NAT/)
    expect(text).toContain('DHT mode: client')
    expect(text).toContain('forward TCP port 31400 (petalmesh) and TCP 31330 (Petals)')
    expect(text).toContain('/ip4/203.0.113.9/tcp/31400')
    expect(text).toContain('relay in use: 12D3KooWRelayPeer')
    expect(r.ok).toBe(true)
  })
  it('directly reachable: nothing to forward', () => {
    const r = reachabilityReport({ status: { ...natted, reachability: 'direct', dialable: true, natDetected: false, reason: 'peers see this node at its own address', dhtMode: 'server', relayAddrs: [] }, configuredPort: 31400, petalsPort: 31330 })
    expect(r.forwardPorts).toEqual([])
    expect(r.lines.join('\n')).not.toContain('forward')
  })
  it('not dialable, no relay, relay client off: not ok, says peers cannot reach it', () => {
    const r = reachabilityReport({ status: { ...natted, reachability: 'unknown', relayAddrs: [], relayClient: { enabled: false, listening: false } }, configuredPort: 31400, petalsPort: 31330 })
    expect(r.ok).toBe(false)
    expect(r.lines.join('\n')).toContain('network.relayClient is off')
  })
  it('no running node: the ports from the config', () => {
    const r = reachabilityReport({ status: null, unavailable: 'no running node for data dir /x', configuredPort: 4001, petalsPort: 31330 })
    expect(r.lines.join('\n')).toMatch(/not known \(no running node for data dir \/x\)[\s\S]*TCP 4001 \(petalmesh\) and TCP 31330 \(Petals\)/)
  })
})

describe('doctor against a running daemon', () => {
  afterAll(async () => { await killAllDaemons(); await removeTempDirs() })

  it('a node declared private reports client DHT mode in /v1/status and doctor names its listen port', async () => {
    const d = await startDaemon({ args: ['--set', 'network.reachability=private'] })
    const s = await d.waitReady()
    const port = Number(/\/tcp\/(\d+)/.exec(s.addresses[0])?.[1])
    const st = await pollUntil(async () => { const st = await d.status() as unknown as { dhtMode: string, reachability: ReachabilityStatus }; return st.dhtMode === 'client' ? st : undefined }, { timeoutMs: 10_000, what: 'client DHT mode' })
    expect(st.reachability).toMatchObject({ dialable: false, override: 'private', natTraversal: true })
    expect(await getJson(d.apiUrl, 'v1/reachability')).toMatchObject({ dialable: false })
    const r = await reachabilityDoctor({ dataDir: d.dataDir, env: {}, petalsPort: 31330 })
    expect(r.forwardPorts).toEqual([port, 31330])
    expect(r.lines.join('\n')).toContain(`forward TCP port ${port} (petalmesh)`)
    expect(d.logs.some(l => /^reachability: unknown \(peers cannot dial this node\)/.test(String(l.msg)))).toBe(true)
    expect(d.logs.some(l => /DHT switched to client mode/.test(String(l.msg)))).toBe(true)
  }, 60_000)

  it('without a running node it says so', async () => {
    const r = await reachabilityDoctor({ dataDir: await makeTempDir(), env: {}, listen: ['/ip4/0.0.0.0/tcp/4001'], petalsPort: 31330 })
    expect(r.status).toBeNull()
    expect(r.lines[0]).toMatch(/not known \(no running node/)
  })
})
