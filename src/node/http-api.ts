// The node's local HTTP API (JSON under /v1). Every answer comes from this node's own view.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PetalmeshNode } from './daemon.ts'
import type { Member } from './swarm-view.ts'
import { formatSpan } from '../protocols/types.ts'

export interface HttpApi {
  url: string
  port: number
  close: () => Promise<void>
}

export interface HttpApiOptions {
  host: string
  port: number
}

class HttpError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

export function memberJson (m: Member): Record<string, unknown> {
  const r = m.record
  return {
    peerId: m.peerId,
    state: m.liveness === 'alive' || m.liveness === 'suspect' ? m.state : 'offline',
    liveness: m.liveness,
    span: r.span,
    spanText: formatSpan(r.span),
    capacity: r.capacity,
    throughput: r.throughput,
    loading: r.loading == null ? null : { done: m.loadingDone, total: r.loading.total },
    hardware: r.hardware,
    publicName: r.publicName,
    version: r.softwareVersion,
    petals: r.petals,
    reachability: r.reachability,
    tokensTotal: m.tokensTotal,
    lastHeardMsAgo: Date.now() - m.lastHeardMs,
    offlineReason: m.offlineReason
  }
}

/** kad-dht's public type omits the routing table, though the runtime object has it. */
export function dhtRoutingTableSize (node: PetalmeshNode): number {
  const dht = node.libp2p.services.dht as unknown as { routingTable?: { size?: number } }
  return dht.routingTable?.size ?? 0
}

export function nodeStatus (node: PetalmeshNode): Record<string, unknown> {
  const self = node.membership.selfState()
  return {
    peerId: node.peerId,
    addresses: node.libp2p.getMultiaddrs().map(String),
    role: node.config.swarm.role,
    model: node.config.swarm.model,
    state: self.state,
    span: self.span,
    capacity: self.capacity,
    throughput: self.throughput,
    loading: self.loading,
    petals: self.petals,
    uptimeMs: Date.now() - node.startedAt,
    connections: node.libp2p.getConnections().length,
    peers: node.libp2p.getPeers().length,
    dhtMode: node.config.swarm.role === 'client' ? 'client' : node.config.network.dhtMode,
    swarmMembers: node.membership.view.live().length,
    dhtRoutingTable: dhtRoutingTableSize(node)
  }
}

export async function startHttpApi (node: PetalmeshNode, opts: HttpApiOptions): Promise<HttpApi> {
  const routes: Record<string, (req: IncomingMessage, url: URL) => unknown> = {
    'GET /v1/health': () => ({ ok: true }),
    'GET /v1/status': () => nodeStatus(node),
    'GET /v1/peers': () => ({ peers: node.membership.view.all().map(memberJson) }),
    'GET /v1/network/info': () => {
      const cov = node.membership.coverage()
      return {
        model: node.config.swarm.model,
        totalBlocks: node.config.swarm.totalBlocks,
        bootstrapPeers: node.config.bootstrap,
        onlineNodes: cov.onlineNodes,
        coveragePercent: cov.coveragePercent,
        readyForInference: cov.readyForInference
      }
    },
    'GET /v1/network/coverage': () => {
      const cov = node.membership.coverage()
      return { ...cov, blocks: cov.blocks.map(b => ({ block: b.block, servers: b.servers, throughput: b.throughput, replication: b.servers.length, pending: b.pending })) }
    },
    'POST /v1/stop': (req) => {
      if (!isLoopback(opts.host) && req.headers.authorization == null) throw new HttpError(401, 'mutating calls need a token when the API is bound beyond loopback')
      setTimeout(() => { void node.stop() }, 10)
      return { stopping: true }
    }
  }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const handler = routes[`${req.method ?? 'GET'} ${url.pathname}`]
    send(res, () => {
      if (handler == null) throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`)
      return handler(req, url)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as AddressInfo).port
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  return {
    url: `http://${host}:${port}/`,
    port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}

function send (res: ServerResponse, fn: () => unknown): void {
  try {
    const body = fn()
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v))
  } catch (err) {
    const status = err instanceof HttpError ? err.status : 500
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: (err as Error).message }))
  }
}
