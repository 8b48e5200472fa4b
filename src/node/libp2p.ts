// The one place that assembles a libp2p node. The daemon, the tests and the simulator all call
// createPetalmeshLibp2p, so a swarm in the simulator runs exactly the stack an operator runs.
import { createLibp2p, type Libp2p, type ServiceFactoryMap } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { memory } from '@libp2p/memory'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@libp2p/yamux'
import { identify, type Identify } from '@libp2p/identify'
import { ping, type Ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub'
import { createPeerScoreParams, createPeerScoreThresholds, createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { uPnPNAT } from '@libp2p/upnp-nat'
import type { ConnectionGater, ConnectionProtector, PrivateKey, ComponentLogger, Metrics } from '@libp2p/interface'
import { reachabilityHooks, type ReachabilityHooks } from './reachability/hooks.ts'
import { autoNATWithFreshDialBacks } from './reachability/autonat-dialback.ts'
import { PROTOCOL_VERSION } from '../protocols/version.ts'

export const DHT_PROTOCOL = `/petalmesh/kad/${PROTOCOL_VERSION}`
export const SOFTWARE_VERSION = '0.1.0'
export const AGENT_VERSION = `petalmesh/${SOFTWARE_VERSION}`

export interface PetalmeshServices {
  identify: Identify
  ping: Ping
  /** Absent when the node runs with dhtMode 'off'. */
  dht?: KadDHT
  pubsub: GossipSub
  /** Present when NAT traversal runs (tcp transport with `nat` options). */
  reachabilityHooks?: ReachabilityHooks
  [key: string]: unknown
}

/** NAT traversal (tcp only): AutoNAT, circuit relay v2, DCUtR hole punching, UPnP. */
export interface NatOptions {
  autonat: boolean
  relayServer: boolean
  relayMaxReservations: number
  relayMaxCircuitMs: number
  relayMaxCircuitBytes: number
  holePunching: boolean
  upnp: boolean
  /** Consulted for each relay reservation request: a node peers cannot dial must not relay for others. */
  relayAllowed?: () => boolean
}

export type PetalmeshLibp2p = Libp2p<PetalmeshServices>

/** Runtime methods gossipsub has but its exported interface omits (see docs/libp2p notes). */
export type GossipSubRuntime = GossipSub & {
  getMeshPeers(topic: string): string[]
  getScore(peerId: string): number
}

export interface Libp2pNodeOptions {
  privateKey: PrivateKey
  transport: 'tcp' | 'memory'
  listen: string[]
  announce?: string[]
  /** 'server' answers DHT queries; 'client' only asks (nodes that cannot accept connections);
   *  'off' runs no DHT (big in-process simulations: the DHT connects every node to every other). */
  dhtMode: 'server' | 'client' | 'off'
  maxConnections?: number
  inboundConnectionsPerSecond?: number
  maxIncomingPending?: number
  ipColocationWhitelist?: string[]
  /** Per-topic score parameters, so invalid messages on our topics cost the sender score. */
  topicScoreParams?: Record<string, TopicScoreParams>
  /** Application score of a peer (≤ 0: minus its misbehaviour points), weighted 10 by gossipsub. */
  appSpecificScore?: (peerId: string) => number
  /** Gossipsub overrides for simulations (heartbeat interval, D). */
  gossip?: Partial<Pick<GossipsubOpts, 'heartbeatInterval' | 'D' | 'Dlo' | 'Dhi' | 'Dout' | 'doPX' | 'floodPublish' | 'Dlazy'>>
  connectionGater?: ConnectionGater
  connectionProtector?: (components: { logger: ComponentLogger }) => ConnectionProtector
  /** Ping interval of libp2p's connection monitor; a failed ping closes the connection. */
  connectionMonitorIntervalMs?: number
  /** libp2p metrics implementation (wire byte counting, Prometheus). */
  metrics?: Metrics
  /** Override the libp2p component logger (the default is silent unless DEBUG=libp2p:* is set). */
  logger?: ComponentLogger
  /** NAT traversal; ignored on the memory transport (simulations run none of it). */
  nat?: NatOptions
}

/**
 * Score parameters for petalmesh's topics. Positive credit is small and capped (at most +8 per
 * topic, +10 in all), so one rejected message (-100 × count²) always pushes a peer below the
 * publish and graylist thresholds; delivery-rate penalties are off because honest message rates
 * depend on the swarm's size and heartbeat period.
 */
export function petalmeshTopicScoreParams (): TopicScoreParams {
  return createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 300,
    firstMessageDeliveriesWeight: 0.5,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 10,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -100,
    invalidMessageDeliveriesDecay: 0.9
  })
}

export async function createPetalmeshLibp2p (opts: Libp2pNodeOptions): Promise<PetalmeshLibp2p> {
  const whitelist = new Set(opts.ipColocationWhitelist ?? ['127.0.0.1', '::1'])
  const scoreParams = createPeerScoreParams({
    IPColocationFactorWhitelist: whitelist,
    topics: opts.topicScoreParams ?? {},
    ...(opts.appSpecificScore != null ? { appSpecificScore: opts.appSpecificScore } : {})
  })
  const nat = opts.transport === 'tcp' ? opts.nat : undefined
  const relayAllowed = nat?.relayAllowed
  const connectionGater: ConnectionGater | undefined = nat?.relayServer === true && relayAllowed != null
    ? {
        ...opts.connectionGater,
        denyInboundRelayReservation: async (source) => (await opts.connectionGater?.denyInboundRelayReservation?.(source)) === true || !relayAllowed()
      }
    : opts.connectionGater
  return await createLibp2p({
    privateKey: opts.privateKey,
    start: false,
    nodeInfo: { name: 'petalmesh', version: SOFTWARE_VERSION, userAgent: AGENT_VERSION },
    addresses: { listen: opts.listen, announce: opts.announce ?? [] },
    // The relay transport dials /p2p-circuit addresses (and listens on them once the node knows it is not dialable).
    transports: opts.transport === 'memory' ? [memory()] : nat != null ? [tcp(), circuitRelayTransport()] : [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: opts.connectionProtector,
    connectionGater,
    ...(opts.logger != null ? { logger: opts.logger } : {}),
    ...(opts.metrics != null ? { metrics: () => opts.metrics as Metrics } : {}),
    connectionManager: {
      maxConnections: opts.maxConnections ?? 300,
      // The default (5/s per IP) refuses most of a swarm that shares one IP (one host, a NAT, a cloud VPC).
      inboundConnectionThreshold: opts.inboundConnectionsPerSecond ?? 100,
      maxIncomingPendingConnections: opts.maxIncomingPending ?? 100,
      dialTimeout: 5_000,
      reconnectRetries: 10,
      reconnectRetryInterval: 1_000,
      reconnectBackoffFactor: 1.5
    },
    connectionMonitor: {
      pingInterval: opts.connectionMonitorIntervalMs ?? 10_000,
      abortConnectionOnPingFailure: true
    },
    services: {
      identify: identify(),
      // Several pings can overlap on one connection (connection monitor, liveness confirmation, route
      // RTTs); with the default of one stream a collision fails a ping and the monitor aborts the connection.
      ping: ping({ maxOutboundStreams: 8, maxInboundStreams: 8 }),
      ...(opts.dhtMode === 'off'
        ? {}
        : {
            dht: kadDHT({
              protocol: DHT_PROTOCOL,
              // Never auto-detect: on loopback/LAN there is no public address, so auto stays client forever.
              clientMode: opts.dhtMode === 'client',
              // The default mapper drops private addresses, which leaves LAN and loopback swarms with empty tables.
              peerInfoMapper: passthroughMapper
            })
          }),
      pubsub: gossipsub({
        globalSignaturePolicy: 'StrictSign',
        allowPublishToZeroTopicPeers: true,
        fallbackToFloodsub: false,
        // Deduplicate before verifying signatures (a local cache key; the wire message id stays
        // gossipsub's default for StrictSign: the author's key and seqno).
        fastMsgIdFn: (msg) => fastMsgId(msg.from, msg.seqno),
        scoreParams,
        scoreThresholds: createPeerScoreThresholds(),
        // Gossip (IHAVE) to 2 non-mesh peers per topic per heartbeat instead of 6: with ~10 small
        // heartbeats/s swarm-wide, the message-id lists are a large share of the control-plane
        // bytes, and the mesh delivers every message anyway (README "Measured results": -10 %).
        Dlazy: 2,
        ...opts.gossip
      }),
      ...(nat == null ? {} : natServices(nat))
    }
  })
}

function natServices (nat: NatOptions): ServiceFactoryMap {
  return {
    reachabilityHooks: reachabilityHooks(),
    ...(nat.autonat ? { autoNAT: autoNATWithFreshDialBacks() } : {}),
    ...(nat.holePunching ? { dcutr: dcutr() } : {}),
    ...(nat.upnp ? { upnpNAT: uPnPNAT() } : {}),
    ...(nat.relayServer
      ? {
          relay: circuitRelayServer({
            reservations: {
              maxReservations: nat.relayMaxReservations,
              defaultDurationLimit: nat.relayMaxCircuitMs,
              defaultDataLimit: BigInt(nat.relayMaxCircuitBytes)
            }
          })
        }
      : {})
  }
}

function fastMsgId (from: Uint8Array | undefined, seqno: Uint8Array | undefined): string {
  return Buffer.from(from ?? []).toString('base64') + ':' + Buffer.from(seqno ?? []).toString('base64')
}
