// Node lifecycle: identity, libp2p, membership, dialer, HTTP API; start and graceful stop.
// `startNode` is what `petalmesh start`, the tests and the simulator run.
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import type { Logger } from 'pino'
import { createPetalmeshLibp2p, petalmeshTopicScoreParams, type PetalmeshLibp2p, type Libp2pNodeOptions, type GossipSubRuntime } from './libp2p.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { Membership, TwinError, type MembershipTiming, type SelfState } from './membership.ts'
import { startDialer, type Dialer } from './dialer.ts'
import { startHttpApi, type HttpApi } from './http-api.ts'
import type { PetalmeshConfig } from './config.ts'
import type { Span } from '../protocols/types.ts'
import { swarmTopics } from '../protocols/membership/topics.ts'
import { PetalmeshError } from '../util/errors.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createTrust, GossipLimits, limitInboundStreams, startGuard, type Trust, type Guard, type PeerPenalties, type TempBans } from './trust/index.ts'
import { PetalsProber } from './petals-probe.ts'
import { SNAPSHOT_PROTOCOL } from '../protocols/snapshot/snapshot.ts'
import { COVERAGE_PROTOCOL } from '../protocols/negotiation/claim-stream.ts'
import { wireCounter, type WireCounts } from './wire-metrics.ts'
import { Negotiator } from './negotiator.ts'
import { mismatchWarner, plannerConfigWarnings, plannerMismatches, plannerSettingsOf } from './planner-check.ts'
import type { LogRing } from './api/logs.ts'
import { createBackend, type PetalsBackend } from '../petals-bridge/index.ts'
import { natOptionsFor, startReachabilityMonitor, type ReachabilityMonitor } from './reachability/index.ts'

export interface NodeOptions {
  config: PetalmeshConfig
  log: Logger
  /** Use this key instead of the data dir's identity (simulator). */
  privateKey?: PrivateKey
  /** Skip the data-dir lock and identity file (in-process simulations). */
  ephemeral?: boolean
  /** Extra libp2p options (gater, gossip tuning) for tests and the simulator. */
  libp2p?: Partial<Libp2pNodeOptions>
  /** Timing of the Petals baseline planner (benchmarks). */
  petalsBaseline?: { startJitterMs?: number, rebalanceMs?: number, seed?: number }
  /** Recent log lines for the API's /v1/logs (the node's own, via its logger, and Petals'). */
  logRing?: LogRing
  /** The Petals backend to drive (default: the one `petals.backend` names). */
  backend?: PetalsBackend
  /** Initial self state (capacity, throughput, hardware...). */
  self?: Partial<SelfState>
  now?: () => number
  /** Aborting it during start-up cuts the start short (a signal arrived): the node comes back stopping. */
  signal?: AbortSignal
}

/** What the node does about hostile peers, for the API, tests and the simulator. */
export interface NodeDefense {
  penalties: PeerPenalties
  bans: TempBans
  /** Disconnects peers whose score or points cross the thresholds (trust.guard). */
  guard: Guard
  /** Checks announced Petals ports (null when trust.probe.enabled is false). */
  prober: PetalsProber | null
  /** Offences per peer: every refused message or stream, and every unverifiable claim. */
  offences: Map<string, number>
  /** Messages and streams refused per peer: rejected gossip, rate-limited gossip and streams, aborted streams. */
  refused: Map<string, number>
  /** Admitted by the lists and not banned. */
  isAdmitted: (peerId: string) => boolean
}

export interface PetalmeshNode {
  libp2p: PetalmeshLibp2p
  membership: Membership
  config: PetalmeshConfig
  peerId: string
  api: HttpApi | null
  log: Logger
  /** Coverage negotiation (servers only). */
  negotiator: Negotiator | null
  backend: PetalsBackend | null
  /** Bytes sent and received on this node's connections. */
  wire: WireCounts
  defense: NodeDefense
  /** How peers reach this node (tcp transport only). */
  reachability?: ReachabilityMonitor
  startedAt: number
  stop: (opts?: { graceful?: boolean }) => Promise<void>
  /** Resolves when the node stopped (by stop() or a fatal condition). */
  stopped: Promise<void>
}

export function parseSpan (s: string | undefined, totalBlocks: number): Span | null {
  if (s == null) return null
  const m = /^(\d+):(\d+)$/.exec(s)
  if (m == null) throw new PetalmeshError(`invalid span ${JSON.stringify(s)}: expected start:end`, { exitCode: 2 })
  const span = { start: Number(m[1]), end: Number(m[2]) }
  if (!(span.start < span.end && span.end <= totalBlocks)) {
    throw new PetalmeshError(`invalid config: swarm.span = "${s}": must satisfy start < end <= swarm.totalBlocks (${totalBlocks})`, { exitCode: 2 })
  }
  return span
}

/** Refuses a second daemon on the same data dir (same machine); the swarm-wide check catches copies elsewhere. */
async function acquireLock (dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, 'daemon.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // O_EXCL: of two daemons started at the same moment, exactly one creates the lock.
      const fh = await open(path, 'wx', 0o600)
      await fh.writeFile(String(process.pid))
      await fh.close()
      return async () => { await rm(path, { force: true }) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    let alive = false
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try { process.kill(pid, 0); alive = true } catch (err) { alive = (err as NodeJS.ErrnoException).code === 'EPERM' }
    }
    if (alive) throw new PetalmeshError(`another petalmesh daemon (pid ${pid}) is running with data dir ${dataDir}. Stop it (petalmesh stop --data-dir ${dataDir}) or use another --data-dir.`, { exitCode: 2 })
    // A lock left by a process that died: take it over.
    await rm(path, { force: true })
  }
  throw new PetalmeshError(`cannot take the lock ${path}; remove it if no petalmesh daemon uses ${dataDir}`, { exitCode: 2 })
}

/** The API token guards mutating calls beyond loopback. It comes from the environment or a file, never argv. */
async function readApiToken (dataDir: string): Promise<string | null> {
  const env = process.env.PETALMESH_SECRET_API_TOKEN
  if (env != null && env.trim() !== '') return env.trim()
  try {
    const t = (await readFile(join(dataDir, 'api.token'), 'utf8')).trim()
    return t === '' ? null : t
  } catch {
    return null
  }
}

export async function startNode (opts: NodeOptions): Promise<PetalmeshNode> {
  const { config, log } = opts
  const cleanups: Array<() => Promise<void>> = []
  let privateKey = opts.privateKey
  if (config.swarm.role === 'server' && config.swarm.totalBlocks === 0) {
    throw new PetalmeshError('invalid config: swarm.totalBlocks = 0: a server must know the model\'s block count (set swarm.totalBlocks / --blocks)', { exitCode: 2 })
  }
  const span = parseSpan(config.swarm.span, config.swarm.totalBlocks)
  if (opts.ephemeral !== true) {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 })
    cleanups.push(await acquireLock(config.dataDir))
  }
  const releaseAll = async (): Promise<void> => { for (const c of cleanups.reverse()) await c().catch(() => {}) }
  if (privateKey == null) {
    try {
      const id = await loadOrCreateIdentity(config.dataDir)
      if (id.created) log.info({ path: id.path }, 'created a new node identity')
      privateKey = id.privateKey
    } catch (err) {
      await releaseAll()
      throw err
    }
  }
  let trust: Trust
  try {
    trust = await createTrust(config.trust, {
      self: peerIdFromPrivateKey(privateKey).toString(),
      onWarn: (msg) => { log.warn(msg) },
      onError: (err) => { log.error({ err: err.message }, 'trust list reload failed; keeping the previous lists') },
      onReload: (lists) => { log.info({ allow: lists.allow.length, deny: lists.deny.length }, 'admission lists reloaded') },
      onDisconnect: (peers) => { log.warn({ peers }, 'disconnected peers that are no longer admitted') }
    })
  } catch (err) {
    await releaseAll()
    throw err
  }
  cleanups.push(async () => { trust.close() })
  if (trust.swarmKey != null) log.info({ source: trust.swarmKey.source, fingerprint: trust.swarmKey.fingerprint }, 'private swarm: only peers with this swarm key can connect')
  const topics = swarmTopics(config.swarm.model)
  // Invalid messages on our topics must cost the sender: without per-topic params, rejects score 0.
  const topicScore = petalmeshTopicScoreParams()
  const wire = wireCounter()
  const offences = new Map<string, number>()
  const refused = new Map<string, number>()
  let guard: Guard | null = null
  /** `message`: a message or stream we refused; `claim`: an unverifiable claim (Petals port). */
  const offend = (peer: string, points: number, reason: string, kind: 'message' | 'claim' = 'message'): void => {
    offences.set(peer, (offences.get(peer) ?? 0) + 1)
    if (kind === 'message') refused.set(peer, (refused.get(peer) ?? 0) + 1)
    if (points > 0) guard?.report(peer, trust.penalties.add(peer, points, reason.replace(/[0-9]+/g, 'N').slice(0, 60), Date.now()))
  }
  let reach: ReachabilityMonitor | null = null
  const libp2p = await createPetalmeshLibp2p({
    privateKey,
    metrics: wire.metrics,
    transport: config.network.transport,
    listen: config.listen,
    announce: config.announce,
    dhtMode: config.swarm.role === 'client' ? 'client' : config.network.dhtMode,
    maxConnections: config.network.maxConnections,
    inboundConnectionsPerSecond: config.network.inboundConnectionsPerSecond,
    maxIncomingPending: config.network.maxIncomingPending,
    ipColocationWhitelist: config.network.ipColocationWhitelist,
    topicScoreParams: { [topics.records]: topicScore, [topics.heartbeats]: topicScore },
    connectionGater: trust.gater,
    connectionProtector: trust.connectionProtector,
    // Misbehaviour points count in gossipsub's score too, so the mesh prunes a peer before the guard cuts it.
    appSpecificScore: (peer) => -trust.penalties.points(peer, Date.now()),
    nat: natOptionsFor(config, () => reach?.relayAllowed() ?? true),
    ...opts.libp2p
  }).catch(async (err: unknown) => { await releaseAll(); throw err })
  const timing: Partial<MembershipTiming> = {
    heartbeatMs: config.swarm.heartbeatMs,
    maxHeartbeatRate: config.swarm.maxHeartbeatRate,
    recordRefreshMs: config.swarm.recordRefreshMs,
    suspectAfterMs: config.swarm.suspectAfterMs,
    offlineAfterMs: config.swarm.offlineAfterMs,
    tombstoneMs: config.swarm.tombstoneMs
  }
  const capacity = config.swarm.capacity > 0
    ? config.swarm.capacity
    : span != null ? span.end - span.start : config.petals.numBlocks ?? config.swarm.totalBlocks
  const isServer = config.swarm.role === 'server'
  const membership = new Membership({
    libp2p,
    privateKey,
    model: config.swarm.model,
    totalBlocks: config.swarm.totalBlocks === 0 ? null : config.swarm.totalBlocks,
    role: config.swarm.role,
    timing,
    log,
    admitted: trust.isAdmitted,
    gossipLimits: new GossipLimits({ perPeer: config.trust.rateLimits.gossipPerPeer, perAuthor: config.trust.rateLimits.gossipPerAuthor }),
    onReject: (peer, reason) => { offend(peer, 1, reason) },
    now: opts.now,
    self: {
      state: !isServer ? 'standby' : span != null ? 'loading' : config.swarm.standby ? 'standby' : 'joining',
      span,
      loading: span != null ? { done: 0, total: span.end - span.start } : null,
      capacity,
      throughput: config.swarm.throughput,
      replication: config.swarm.replication,
      publicName: config.swarm.publicName,
      claimMs: Date.now(),
      planner: isServer ? plannerSettingsOf(config.swarm) : null,
      ...opts.self
    }
  })

  let backend: PetalsBackend | null = null
  let negotiator: Negotiator | null = null
  if (isServer) {
    try {
      backend = opts.backend ?? await createBackend({ config: config.petals, dataDir: config.dataDir, logger: log, reachability: () => reach?.petalsHint() ?? null })
    } catch (err) {
      await libp2p.stop()
      await releaseAll()
      throw err
    }
  }
  const selfId = libp2p.peerId.toString()
  guard = startGuard(libp2p, {
    ...config.trust.guard,
    penalties: trust.penalties,
    bans: trust.bans,
    score: (peer) => (libp2p.services.pubsub as GossipSubRuntime).getScore(peer),
    exempt: (peer) => peer === selfId,
    onDisconnect: (e) => { log.warn({ peer: e.peer, reason: e.reason, bannedUntil: new Date(e.bannedUntil).toISOString() }, 'disconnected and banned a misbehaving peer') }
  })
  cleanups.push(async () => { guard?.stop() })
  const probeCfg = config.trust.probe
  const prober = probeCfg.enabled ? new PetalsProber({ view: membership.view, ...probeCfg }) : null
  prober?.on('flagged', (peer, s) => {
    log.warn({ peer, error: s.lastError, failures: s.consecutiveFailures }, 'member announces blocks online but its Petals port does not answer: left out of routes')
    offend(peer, probeCfg.penalty, 'Petals port unreachable', 'claim')
  })
  prober?.on('cleared', (peer) => { log.info({ peer }, 'member no longer flagged unreachable') })
  cleanups.push(async () => { prober?.stop() })
  const defense: NodeDefense = { penalties: trust.penalties, bans: trust.bans, guard, prober, offences, refused, isAdmitted: trust.isAdmitted }

  let dialer: Dialer | null = null
  let api: HttpApi | null = null
  let resolveStopped: () => void = () => {}
  const stopped = new Promise<void>(resolve => { resolveStopped = resolve })
  let stopping: Promise<void> | null = null

  const stop = async (stopOpts: { graceful?: boolean } = {}): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping')
      dialer?.stop()
      reach?.stop()
      // Leave the swarm first (peers re-plan at once), then stop Petals gracefully.
      await membership.stop({ graceful: stopOpts.graceful })
      // Petals and libp2p stop side by side: peers already know we left.
      await Promise.all([
        (async () => {
          await negotiator?.stop()
          if (negotiator == null) await backend?.close().catch(() => {})
        })(),
        (async () => {
          await api?.close().catch(() => {})
          try {
            await libp2p.stop()
          } catch (err) {
            log.warn({ err: (err as Error).message }, 'libp2p stop failed')
          }
        })()
      ])
      await releaseAll()
      log.info('stopped')
      resolveStopped()
    })()
    await stopping
  }

  try {
    await libp2p.start()
    log.info({ peerId: libp2p.peerId.toString(), addrs: libp2p.getMultiaddrs().map(String), model: config.swarm.model, role: config.swarm.role }, 'libp2p started')
    trust.attach(libp2p)
    // Before the handlers: libp2p runs the middleware of a protocol ahead of its handler.
    limitInboundStreams(libp2p, [SNAPSHOT_PROTOCOL, COVERAGE_PROTOCOL], {
      perSec: config.trust.rateLimits.streamsPerPeer,
      onExceed: (peer, protocol) => { offend(peer, 1, `stream rate limit ${protocol}`) },
      // The snapshot handler counts its own rejects (membership.onReject); the claim handler does not.
      onAbort: (peer, protocol) => { if (protocol === COVERAGE_PROTOCOL) offend(peer, 1, 'bad claim push stream') }
    })
    await membership.start()
    prober?.start()
    dialer = startDialer(libp2p, {
      bootstrap: config.bootstrap,
      targetPeers: config.network.targetPeers,
      baseMs: config.network.redialMs,
      maxMs: config.network.redialMaxMs,
      log,
      candidates: () => membership.view.live().map(m => m.peerId)
    })
    if (libp2p.services.reachabilityHooks != null) reach = startReachabilityMonitor({ libp2p, membership, config, log, redial: () => dialer?.kick() })
    const aborted = new Promise<void>(resolve => {
      if (opts.signal?.aborted === true) resolve()
      opts.signal?.addEventListener('abort', () => { resolve() }, { once: true })
    })
    await Promise.race([dialer.firstRound, aborted])
    if (opts.signal?.aborted !== true && config.swarm.role === 'server' && libp2p.getPeers().length > 0) await membership.checkNoTwin()
    if (opts.signal?.aborted !== true) await membership.announce()
    if (backend != null && opts.logRing != null) {
      const ring = opts.logRing
      backend.onLog(l => { ring.push({ ts: l.ts, source: l.source, level: l.level, text: l.text }) })
    }
    if (isServer && backend != null && opts.signal?.aborted !== true) {
      negotiator = new Negotiator({
        libp2p,
        membership,
        backend,
        log,
        replication: config.swarm.replication,
        fixedSpan: span,
        standby: config.swarm.standby,
        params: { settleMs: config.swarm.settleMs, minGain: config.swarm.minGain, reloadMs: config.swarm.reloadMs, cooldownMs: config.swarm.cooldownMs },
        tickMs: config.swarm.heartbeatMs,
        planner: config.swarm.planner,
        bootstrapPeers: config.bootstrap.flatMap(a => { const id = a.split('/p2p/')[1]; return id == null || id === '' ? [] : [id.split('/')[0]] }),
        petals: opts.petalsBaseline,
        seedWaitMs: config.petals.swarmSeedWaitMs,
        now: opts.now
      })
      await negotiator.start()
    }
    if (isServer) {
      for (const w of plannerConfigWarnings(config.swarm)) log.warn(w)
      const mine = { settings: plannerSettingsOf(config.swarm), replication: config.swarm.replication }
      const warn = mismatchWarner(log)
      membership.on('swarm', (e) => {
        if (e.type === 'member-joined' || e.type === 'member-updated' || e.type === 'member-back') warn(plannerMismatches(mine, [e.member]))
      })
    }
    membership.on('swarm', (e) => {
      // A twin that appears shortly after our start means we are the duplicate: refuse to run.
      if (e.type === 'twin-detected' && membership.uptimeMs() < 10_000) {
        log.error(new TwinError(libp2p.peerId.toString(), 'gossip').message)
        void stop({ graceful: false })
      }
    })
    const node: PetalmeshNode = { libp2p, membership, negotiator, backend, config, peerId: libp2p.peerId.toString(), api: null, log, wire: wire.counts, defense, startedAt: Date.now(), stop, stopped, ...(reach != null ? { reachability: reach } : {}) }
    if (config.api.enabled) {
      api = await startHttpApi(node, {
        host: config.api.host,
        port: config.api.port,
        token: await readApiToken(config.dataDir),
        petals: () => backend?.status() ?? null,
        ...(opts.logRing != null ? { logLines: opts.logRing.source() } : {})
      })
      node.api = api
      if (opts.ephemeral !== true) {
        await writeFile(join(config.dataDir, 'api.json'), JSON.stringify({ url: api.url, pid: process.pid }) + '\n', { mode: 0o600 })
        cleanups.push(async () => { await rm(join(config.dataDir, 'api.json'), { force: true }) })
      }
      log.info({ url: api.url }, 'HTTP API listening')
    }
    return node
  } catch (err) {
    await stop({ graceful: false }).catch(() => {})
    throw err
  }
}
