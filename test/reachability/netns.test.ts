// Nodes behind NAT, for real: Linux network namespaces with iptables MASQUERADE routers (see
// test/helpers/netns.ts). A public bootstrap node (public-looking addresses, confirmed by AutoNAT) and
// two nodes each behind its own NAT join one swarm, see each other's records, and complete a
// negotiation stream with each other, relayed; the test then gives DCUtR hole punching a bounded
// window and reports the path. Then one NATed node's link is cut for 30 s and restored, and it must
// come back in every view without a restart.
// Skips with the reason where namespaces are not available (not root, no iptables).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDaemon, killAllDaemons, makeTempDir, removeTempDirs, pollUntil, type Daemon, type NodeStatus, type PeerEntry } from '../helpers/cli.ts'
import { isPrivateIp } from '@libp2p/utils'
import { createNatLab, execIn, LAB_LINKS, netnsUnavailable, removeStaleNamespaces, rootNetworkState, startAgent, WAN_PREFIX, type NatLab, type NsAgent } from '../helpers/netns.ts'
import type { ReachabilityStatus } from '../../src/node/reachability/monitor.ts'
import type { ProbeResult } from '../../src/node/reachability/probe.ts'

const unavailable = await netnsUnavailable()
if (unavailable != null) console.warn(`[reachability netns test] skipped: ${unavailable}`)

const HEARTBEAT_MS = 500
const TIMING = [
  '--set', `swarm.heartbeatMs=${HEARTBEAT_MS}`, '--set', 'swarm.suspectAfterMs=1500', '--set', 'swarm.offlineAfterMs=3000',
  '--set', 'swarm.settleMs=300', '--set', 'network.redialMs=500', '--set', 'network.redialMaxMs=3000',
  // Never search for a router (SSDP) in tests; the decision for `auto` is unit-tested.
  '--set', 'network.upnp=off',
  // The simulated Petals backend listens on the loopback of its own namespace, which no other node
  // can reach: the Petals-port probe would flag (and, at the default penalty, ban) every member.
  '--set', 'trust.probe.enabled=false'
]

type Status = NodeStatus & { reachability: ReachabilityStatus, dhtMode: string }

// libp2p's DCUtR debug log on the NATed nodes (stderr), so the report can say why a punch failed.
const DCUTR_DEBUG = { DEBUG: 'libp2p:dcutr*' }
/** How long the test gives hole punching after the first relayed stream. */
const HOLE_PUNCH_WINDOW_MS = 8000

describe.skipIf(unavailable != null)('nodes behind NAT (network namespaces)', () => {
  let lab: NatLab
  const agents: NsAgent[] = []
  const report: Record<string, unknown> = {}
  let boot: Daemon, a: Daemon, b: Daemon
  let agentA: NsAgent, agentB: NsAgent, agentBoot: NsAgent
  let rootBefore: Awaited<ReturnType<typeof rootNetworkState>>
  let rootAfter: Awaited<ReturnType<typeof rootNetworkState>>

  beforeAll(async () => {
    await removeStaleNamespaces()
    rootBefore = await rootNetworkState()
    lab = await createNatLab()
    rootAfter = await rootNetworkState()
    const dir = await makeTempDir('petalmesh-netns-')
    agentBoot = await startAgent(lab.ns.boot, dir)
    agentA = await startAgent(lab.ns.a, dir)
    agentB = await startAgent(lab.ns.b, dir)
    agents.push(agentBoot, agentA, agentB)
  }, 60_000)

  afterAll(async () => {
    console.log('[reachability netns test] report:', JSON.stringify(report, null, 2))
    await killAllDaemons()
    for (const ag of agents) ag.close()
    await lab?.destroy()
    await removeTempDirs()
  }, 60_000)

  const status = async (d: Daemon): Promise<Status> => await d.status() as Status
  const view = async (d: Daemon, peer: string): Promise<PeerEntry | undefined> => (await d.peers()).find(p => p.peerId === peer)

  it('the lab is isolated: nothing in the root namespace, no route out, public-looking WAN', async () => {
    // No interface of the lab appeared in the root namespace, and no route to its subnets.
    const newLinks = rootAfter.links.filter(l => !rootBefore.links.includes(l))
    expect(newLinks.filter(l => LAB_LINKS.includes(l))).toEqual([])
    const newRoutes = rootAfter.routes.filter(r => !rootBefore.routes.includes(r))
    expect(newRoutes.filter(r => r.includes(`${WAN_PREFIX}.`) || /10\.0\.[12]\./.test(r))).toEqual([])
    expect(rootAfter.routes.some(r => r.startsWith(`${WAN_PREFIX}.`))).toBe(false)
    // Only the NATed hosts have a default route (to their own router); the "internet" leads nowhere.
    for (const ns of [lab.ns.inet, lab.ns.boot, lab.ns.ra, lab.ns.rb]) {
      const { out } = await execIn(ns, ['ip', '-4', 'route', 'show'])
      expect(out).not.toMatch(/^default/m)
    }
    for (const [ns, gw] of [[lab.ns.a, lab.gateway.a], [lab.ns.b, lab.gateway.b]] as const) {
      const { out } = await execIn(ns, ['ip', '-4', 'route', 'show', 'default'])
      expect(out.trim()).toBe(`default via ${gw} dev ${lab.hostIf}`)
    }
    // libp2p treats the WAN as public (or AutoNAT and DCUtR would ignore it) and the LANs as private.
    for (const ip of [lab.ip.boot, lab.ip.raOut, lab.ip.rbOut]) expect(isPrivateIp(ip)).toBe(false)
    for (const ip of [lab.ip.a, lab.ip.b]) expect(isPrivateIp(ip)).toBe(true)
  })

  it('a public node and two nodes behind their own NATs join, see each other and negotiate', async () => {
    const t0 = Date.now()
    // No reachability override on the bootstrap: AutoNAT (peers dialling it back) must find it public.
    boot = await startDaemon({ wrap: ['ip', 'netns', 'exec', lab.ns.boot], listen: `/ip4/${lab.ip.boot}/tcp/4001`, getJson: agentBoot.getJson, args: TIMING })
    const bootStatus = await boot.waitReady(30_000) as Status
    const bootAddr = `/ip4/${lab.ip.boot}/tcp/4001/p2p/${bootStatus.peerId}`
    a = await startDaemon({ wrap: ['ip', 'netns', 'exec', lab.ns.a], listen: `/ip4/${lab.ip.a}/tcp/4001`, bootstrap: [bootAddr], getJson: agentA.getJson, args: TIMING, env: DCUTR_DEBUG })
    b = await startDaemon({ wrap: ['ip', 'netns', 'exec', lab.ns.b], listen: `/ip4/${lab.ip.b}/tcp/4001`, bootstrap: [bootAddr], getJson: agentB.getJson, args: TIMING, env: DCUTR_DEBUG })
    const [sa, sb] = await Promise.all([a.waitReady(30_000), b.waitReady(30_000)])

    // Each NATed node learns it is behind a NAT, switches its DHT to client mode and gets a relay slot.
    for (const [d, name] of [[a, 'a'], [b, 'b']] as const) {
      const s = await pollUntil(async () => { const s = await status(d); return s.reachability.reachability === 'relayed' && s.dhtMode === 'client' ? s : undefined },
        { timeoutMs: 30_000, intervalMs: 250, what: `node ${name} to be relayed with a client-mode DHT` }).catch((err: Error) => { throw new Error(`${err.message}\n${d.logText().slice(-6000)}`) })
      expect(s.reachability.natDetected).toBe(true)
      expect(s.reachability.observedAddrs.some(x => x.includes(name === 'a' ? lab.ip.raOut : lab.ip.rbOut))).toBe(true)
      expect(s.reachability.relayAddrs[0]).toContain(`/p2p/${bootStatus.peerId}/p2p-circuit`)
      expect(d.logs.some(l => /^reachability: relayed/.test(String(l.msg)))).toBe(true)
      report[`${name}RelayedAfterMs`] = Date.now() - t0
    }
    // The bootstrap: AutoNAT verified its public address (a NATed peer dialled it back).
    const bs = await pollUntil(async () => { const s = await status(boot); return s.reachability.verifiedAddrs.length > 0 && s.reachability.reachability === 'direct' ? s : undefined },
      { timeoutMs: 30_000, intervalMs: 250, what: 'AutoNAT to confirm the bootstrap\'s public address' }).catch(async (err: Error) => { throw new Error(`${err.message}\n${JSON.stringify((await status(boot)).reachability)}`) })
    expect(bs.reachability.verifiedAddrs[0]).toContain(`/ip4/${lab.ip.boot}/tcp/4001`)
    expect(bs.reachability.reason).toMatch(/^AutoNAT: /)
    expect(bs.reachability.natDetected).toBe(false)
    expect(bs.reachability.dialable).toBe(true)
    expect(bs.dhtMode).toBe('server')
    report.boot = { reachability: bs.reachability.reachability, reason: bs.reachability.reason, verifiedAfterMs: Date.now() - t0 }
    // The NATed nodes' observed (router) addresses are public-looking but AutoNAT cannot confirm them.
    for (const d of [a, b]) expect((await status(d)).reachability.verifiedAddrs).toEqual([])
    // Answering the bootstrap's AutoNAT request must not cost a NATed node its connection to it
    // (@libp2p/autonat reused and then closed it; see src/node/reachability/autonat-dialback.ts).
    for (const d of [a, b]) expect(d.logs.filter(l => /lost every connection/.test(String(l.msg)))).toEqual([])

    // Both see each other's records, with the relayed reachability, alive.
    for (const [d, other, name] of [[a, sb.peerId, 'a'], [b, sa.peerId, 'b']] as const) {
      const p = await pollUntil(async () => { const p = await view(d, other); return p?.liveness === 'alive' && p.reachability === 'relayed' ? p : undefined },
        { timeoutMs: 30_000, intervalMs: 250, what: `node ${name} to see its NATed peer alive and relayed` })
      expect(p.reachability).toBe('relayed')
    }
    report.joinedAfterMs = Date.now() - t0

    // A negotiation stream between the two NATed nodes: through the relay, then direct if hole punching succeeds.
    const probe = async (from: NsAgent, d: Daemon, peer: string): Promise<ProbeResult> => {
      const r = await from.request<ProbeResult>('POST', new URL(`v1/reachability/probe?peer=${peer}`, d.apiUrl).toString())
      expect(r.status).toBe(200)
      return r.body
    }
    const firstAt = Date.now()
    const first = await pollUntil(async () => { const r = await probe(agentA, a, sb.peerId); return r.ok ? r : undefined }, { timeoutMs: 20_000, intervalMs: 500, what: 'a negotiation stream from a to b' })
    expect(first.ok).toBe(true)
    expect(first.path).not.toBeNull()
    report.firstStream = { path: first.path, remoteAddr: first.remoteAddr, rttMs: first.rttMs, afterMs: Date.now() - t0 }
    const back = await probe(agentB, b, sa.peerId)
    expect(back.ok).toBe(true)
    report.reverseStream = { path: back.path, remoteAddr: back.remoteAddr, rttMs: back.rttMs }
    // Both ways through the relay first: neither NATed node can be dialled directly.
    expect(first.path).toBe('relayed')
    expect(first.remoteAddr).toContain(`/p2p/${bootStatus.peerId}/p2p-circuit`)
    // Give DCUtR a bounded window to replace the relayed connection with a direct one; report the outcome.
    let last = first
    while (last.path !== 'direct' && Date.now() - firstAt < HOLE_PUNCH_WINDOW_MS) {
      await new Promise(resolve => setTimeout(resolve, 1000))
      last = await probe(agentA, a, sb.peerId)
    }
    expect(last.ok).toBe(true)
    const dcutrLog = (d: Daemon): string[] => d.otherStderr.filter(l => /libp2p:dcutr/.test(l))
      .map(l => l.replace(/^\S+\s+libp2p:dcutr\S*\s+/, '').slice(0, 240)).slice(-6)
    report.holePunch = {
      path: last.path,
      upgraded: last.path === 'direct',
      afterMs: last.path === 'direct' ? Date.now() - firstAt : null,
      windowMs: HOLE_PUNCH_WINDOW_MS,
      remoteAddr: last.remoteAddr,
      rttMs: last.rttMs,
      connections: { a: (await status(a)).reachability.connections, b: (await status(b)).reachability.connections },
      dcutrLog: { a: dcutrLog(a), b: dcutrLog(b) }
    }
    console.log(`[reachability netns test] path: first stream ${String(first.path)}, reverse ${String(back.path)}; after ${HOLE_PUNCH_WINDOW_MS} ms of hole punching: ${String(last.path)}`)
  }, 120_000)

  it('a NATed node whose link is cut for 30 s is offline, then back in every view without a restart', async () => {
    const sa = await status(a)
    const [sb, sboot] = await Promise.all([status(b), status(boot)])
    const cutAt = Date.now()
    await execIn(lab.ns.a, ['ip', 'link', 'set', lab.hostIf, 'down'])
    // Every other view marks it offline.
    await Promise.all([boot, b].map(async d => await pollUntil(async () => (await view(d, sa.peerId))?.liveness === 'offline', { timeoutMs: 20_000, intervalMs: 250, what: 'the cut node to be offline' })))
    report.offlineInEveryViewAfterMs = Date.now() - cutAt
    await new Promise(resolve => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - cutAt))))
    // The link returns (as after a Wi-Fi drop or DHCP renewal: the default route comes back too).
    await execIn(lab.ns.a, ['ip', 'link', 'set', lab.hostIf, 'up'])
    await execIn(lab.ns.a, ['ip', 'route', 'replace', 'default', 'via', lab.gateway.a])
    const upAt = Date.now()
    const backIn = async (d: Daemon, peer: string): Promise<number> => {
      await pollUntil(async () => (await view(d, peer))?.liveness === 'alive', { timeoutMs: 30_000, intervalMs: 100, what: `${peer} alive again` })
      return Date.now() - upAt
    }
    const [inBoot, inB, bInA, bootInA] = await Promise.all([backIn(boot, sa.peerId), backIn(b, sa.peerId), backIn(a, sb.peerId), backIn(a, sboot.peerId)])
    report.backAliveAfterLinkUpMs = { inBootView: inBoot, inBView: inB, aSeesB: bInA, aSeesBoot: bootInA }
    // What the cut node itself noticed, in order (for the report).
    report.cutNodeLog = a.logs.filter(l => Date.parse(String(l.time)) >= cutAt && /network interfaces|lost every connection|connected again|reachability|member (offline|back)|relay/.test(String(l.msg)))
      .map(l => `${Date.parse(String(l.time)) - cutAt} ms: ${String(l.msg)}`)
    // Same process, no restart.
    expect(a.exit).toBeNull()
    expect((await status(a)).peerId).toBe(sa.peerId)
    // "Within a few heartbeats" of the link returning, with slack for a shared 2-core machine.
    expect(Math.max(inBoot, inB, bInA, bootInA)).toBeLessThan(20 * HEARTBEAT_MS + 5000)
    // It is reachable through the relay again.
    const s = await pollUntil(async () => { const s = await status(a); return s.reachability.reachability === 'relayed' ? s : undefined }, { timeoutMs: 20_000, intervalMs: 250, what: 'relayed again' })
    report.relayedAgainAfterLinkUpMs = Date.now() - upAt
    expect(s.reachability.relayAddrs.length).toBeGreaterThan(0)
  }, 120_000)

  it('an upstream outage at the router (no interface change on the node) heals the same way', async () => {
    const [sa, sb] = await Promise.all([status(a), status(b)])
    // Router B drops everything to and from its LAN for 12 s: b's interfaces stay up, only packets vanish.
    const rule = ['FORWARD', '-i', 'lan0', '-j', 'DROP']
    await execIn(lab.ns.rb, ['iptables', '-I', ...rule])
    const cutAt = Date.now()
    await Promise.all([boot, a].map(async d => await pollUntil(async () => (await view(d, sb.peerId))?.liveness === 'offline', { timeoutMs: 20_000, intervalMs: 250, what: 'b offline' })))
    report.upstreamOutageOfflineAfterMs = Date.now() - cutAt
    await new Promise(resolve => setTimeout(resolve, Math.max(0, 12_000 - (Date.now() - cutAt))))
    await execIn(lab.ns.rb, ['iptables', '-D', ...rule])
    const upAt = Date.now()
    await Promise.all([
      pollUntil(async () => (await view(boot, sb.peerId))?.liveness === 'alive', { timeoutMs: 30_000, intervalMs: 100, what: 'b alive in boot\'s view' }),
      pollUntil(async () => (await view(a, sb.peerId))?.liveness === 'alive', { timeoutMs: 30_000, intervalMs: 100, what: 'b alive in a\'s view' }),
      pollUntil(async () => (await view(b, sa.peerId))?.liveness === 'alive', { timeoutMs: 30_000, intervalMs: 100, what: 'a alive in b\'s view' })
    ]).catch((err: Error) => {
      const since = (d: Daemon): string[] => d.logs.filter(l => Date.parse(String(l.time)) >= cutAt - 1000).map(l => `${Date.parse(String(l.time)) - cutAt} ms ${String(l.msg)} ${JSON.stringify({ ...l, msg: undefined, time: undefined, level: undefined, pid: undefined, hostname: undefined })}`)
      throw new Error(`${err.message}\n--- b ---\n${since(b).join('\n')}\n--- boot ---\n${since(boot).join('\n')}`)
    })
    report.upstreamOutageBackAfterMs = Date.now() - upAt
    report.gossipLinksRepaired = { boot: (await status(boot)).reachability.gossipLinksRepaired, a: (await status(a)).reachability.gossipLinksRepaired, b: (await status(b)).reachability.gossipLinksRepaired }
    expect(b.exit).toBeNull()
    // Bounded by the redial backoff (network.redialMaxMs = 3 s here) plus a few heartbeats.
    expect(Date.now() - upAt).toBeLessThan(3000 + 20 * HEARTBEAT_MS + 5000)
  }, 90_000)
})
