// The node's local HTTP API: JSON under /v1, Prometheus metrics at /metrics, server-sent events at
// /v1/events and the operator dashboard at /. Every answer comes from this node's own view.
//
// Security model: bound to 127.0.0.1 by default. On a loopback address the Host header must name a
// loopback host (DNS-rebinding protection). Mutating calls (POST /v1/stop) refuse cross-site browser
// requests, and when the API is bound beyond loopback they need `Authorization: Bearer <token>` with the
// token from the options (the daemon reads it from a file or the environment, never from argv).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PetalmeshNode } from './daemon.ts'
import { SOFTWARE_VERSION } from './libp2p.ts'
import { createNodeMetrics, type NodeMetrics } from './metrics.ts'
import type { Liveness } from './swarm-view.ts'
import { HttpError, checkParams, boolParam, enumListParam, enumParam, intParam, numberParam, stringParam } from './api/query.ts'
import { coverageJson, memberJson, networkInfo, nodeStatus, peersJson, routeJson, selfRow, toJson, type ApiNode } from './api/json.ts'
import { EventHub, watchNode } from './api/events.ts'
import { LogRing, mergeLogLines } from './api/logs.ts'
import { RoutePreview } from './api/route.ts'
import { defaultPlanner, previewJoin, previewLeave, type PlanPreviewer } from './api/plan.ts'
import type { ApiEvent, LogLine, LogSourceName, PetalsBackendJson } from './api/types.ts'
import { probePeer } from './reachability/probe.ts'

export { memberJson, nodeStatus, dhtRoutingTableSize } from './api/json.ts'
export type * from './api/types.ts'

export interface HttpApi {
  url: string
  port: number
  /** This node's metrics registry and counter hooks (negotiation moves, Petals restarts). */
  metrics: NodeMetrics
  /** Pushes an event to `/v1/events` subscribers (and the API's own log ring). */
  notify: (type: string, fields?: Omit<ApiEvent, 'id' | 'type' | 'at'>) => void
  /** The event stream's hub (recent events, in-process listeners). */
  events: EventHub
  close: () => Promise<void>
}

/** What the API shows of the Petals backend; the bridge's `BackendStatus` fits. */
export interface PetalsStatusLike {
  state: string
  restarts: number
  loading?: { done: number, total: number } | null
  lastError?: { kind: string, message: string, hint: string } | null
}

export interface HttpApiOptions {
  host: string
  port: number
  /** Bearer token for mutating calls; required for them when `host` is not a loopback address. */
  token?: string | null
  /**
   * Require the token for mutating calls even on a loopback address, e.g. when a reverse proxy on the
   * same host exposes the API. Default: only beyond loopback.
   */
  requireToken?: boolean
  /** Recent Petals and node log lines for `/v1/logs` (e.g. `LogRing.source()`). */
  logLines?: () => readonly LogLine[]
  /** Also log swarm and node changes as `node` lines in `/v1/logs` (default true; turn off if `logLines` already has the node's log). */
  eventLog?: boolean
  /** The supervised Petals backend's status (e.g. `() => backend.status()`). */
  petals?: () => PetalsStatusLike | null
  /** Use these metrics instead of creating a registry for this API. */
  metrics?: NodeMetrics
  /** Node.js process metrics in the registry the API creates (default true). */
  processMetrics?: boolean
  /** Planner behind `/v1/network/plan` (default: the coverage protocol's planSwarm). */
  planner?: PlanPreviewer
  /** Extra Host header names accepted when bound to loopback (e.g. a name in /etc/hosts). */
  allowedHosts?: string[]
  /** Serve the dashboard at / (default true). */
  dashboard?: boolean
}

const DASHBOARD_DIR = fileURLToPath(new URL('./dashboard/', import.meta.url))
const DASHBOARD_FILE = /^[a-z0-9][a-z0-9_.-]*\.(html|js|css|svg)$/
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml'
}
const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
const LIVENESS: readonly Liveness[] = ['alive', 'suspect', 'offline', 'left']
const LOG_SOURCES: readonly LogSourceName[] = ['petals', 'bridge', 'node']
const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

export function isLoopback (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || /^::ffff:127\./.test(h)
}

/** A non-JSON answer (metrics text, dashboard files). */
class RawReply {
  constructor (readonly status: number, readonly contentType: string, readonly body: string | Buffer, readonly headers: Record<string, string> = {}) {}
}

/** The handler wrote the response itself (event stream). */
const STREAMED = Symbol('streamed')

interface Ctx { req: IncomingMessage, res: ServerResponse, url: URL, param: string }
type Handler = (ctx: Ctx) => unknown
interface Endpoint {
  method: 'GET' | 'POST'
  /** Exact path, or a prefix ending in '/' that takes one more path segment (`param`). */
  path: string
  description: string
  handler: Handler
  /** Listed in the GET /v1 index. */
  listed?: boolean
}

function tokensMatch (given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

function hostName (hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined)
  const colon = h.lastIndexOf(':')
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h
}

export async function startHttpApi (node: PetalmeshNode, opts: HttpApiOptions): Promise<HttpApi> {
  const api: ApiNode = node
  const loopback = isLoopback(opts.host)
  const needToken = !loopback || opts.requireToken === true
  const token = opts.token != null && opts.token !== '' ? opts.token : null
  const ownMetrics = opts.metrics == null
  const metrics = opts.metrics ?? createNodeMetrics(node, {
    processMetrics: opts.processMetrics,
    petals: opts.petals == null ? undefined : () => opts.petals?.() ?? null
  })
  const planner = opts.planner ?? defaultPlanner
  const routes = new RoutePreview(api)
  const hub = new EventHub()
  const ownLog = new LogRing(500)
  const logEvents = opts.eventLog !== false
  const logLine = (level: string, text: string): void => { if (logEvents) ownLog.push({ ts: Date.now(), source: 'node', level, text }) }
  const unwatch = watchNode(api, hub, { routes, onLine: logLine })
  const allowedHosts = new Set((opts.allowedHosts ?? []).map(h => h.toLowerCase()))

  const petalsJson = (): PetalsBackendJson | null => {
    const p = opts.petals?.()
    if (p == null) return null
    return { state: p.state, restarts: p.restarts, loading: p.loading ?? null, lastError: p.lastError ?? null }
  }

  const authorize = (req: IncomingMessage): void => {
    // A browser page on another origin must not drive the node (CSRF): fetch metadata and Origin say so.
    const site = req.headers['sec-fetch-site']
    if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, 'cross-site requests may not call mutating endpoints')
    const origin = req.headers.origin
    if (origin != null && origin !== 'null') {
      let originHost = ''
      try { originHost = new URL(origin).host.toLowerCase() } catch {}
      if (originHost !== (req.headers.host ?? '').toLowerCase()) throw new HttpError(403, `requests from origin ${origin} may not call mutating endpoints`)
    } else if (origin === 'null') {
      throw new HttpError(403, 'requests from an opaque origin may not call mutating endpoints')
    }
    if (!needToken) return
    const where = loopback ? 'the API requires a token' : `the API is bound to ${opts.host}, beyond loopback`
    if (token == null) throw new HttpError(403, `mutating calls are disabled: ${where} and no API token is configured`)
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')
    if (m == null) throw new HttpError(401, `this call needs Authorization: Bearer <token> (${where})`, { 'www-authenticate': 'Bearer realm="petalmesh"' })
    if (!tokensMatch(m[1], token)) throw new HttpError(401, 'invalid API token', { 'www-authenticate': 'Bearer realm="petalmesh", error="invalid_token"' })
  }

  const dashboardFile = async (name: string): Promise<RawReply> => {
    if (opts.dashboard === false) throw new HttpError(404, 'the dashboard is disabled on this node')
    if (!DASHBOARD_FILE.test(name)) throw new HttpError(404, `no such dashboard file: ${name}`)
    let body: Buffer
    try {
      body = await readFile(DASHBOARD_DIR + name)
    } catch {
      throw new HttpError(404, `no such dashboard file: ${name}`)
    }
    const headers: Record<string, string> = { 'cache-control': 'no-cache' }
    if (name.endsWith('.html')) {
      headers['content-security-policy'] = DASHBOARD_CSP
      headers['x-frame-options'] = 'DENY'
      headers['referrer-policy'] = 'no-referrer'
    }
    return new RawReply(200, CONTENT_TYPES[extname(name)] ?? 'application/octet-stream', body, headers)
  }

  const metricsReply = async (url: URL): Promise<RawReply> => {
    checkParams(url, [])
    return new RawReply(200, metrics.contentType, await metrics.render())
  }

  const endpoints: Endpoint[] = [
    { method: 'GET', path: '/', description: 'The operator dashboard (HTML)', handler: async () => await dashboardFile('index.html') },
    { method: 'GET', path: '/dashboard/', description: 'Dashboard assets', listed: false, handler: async ({ param }) => await dashboardFile(param) },
    { method: 'GET', path: '/metrics', description: 'Prometheus metrics (text exposition format)', handler: async ({ url }) => await metricsReply(url) },
    { method: 'GET', path: '/v1/metrics', description: 'Same as /metrics', listed: false, handler: async ({ url }) => await metricsReply(url) },
    {
      method: 'GET',
      path: '/v1',
      description: 'This index',
      handler: ({ url }) => {
        checkParams(url, [])
        return {
          name: 'petalmesh',
          version: SOFTWARE_VERSION,
          peerId: node.peerId,
          endpoints: endpoints.filter(e => e.listed !== false).map(e => ({ method: e.method, path: e.path.endsWith('/') && e.path.length > 1 ? `${e.path}{peerId}` : e.path, description: e.description }))
        }
      }
    },
    { method: 'GET', path: '/v1/health', description: 'Liveness: 200 {ok: true} while the node runs', handler: ({ url }) => { checkParams(url, []); return { ok: true, peerId: node.peerId, uptimeMs: Date.now() - node.startedAt } } },
    { method: 'GET', path: '/v1/status', description: 'This node: peer id, addresses, state, span, Petals state and loading progress, uptime, restarts', handler: ({ url }) => { checkParams(url, []); return nodeStatus(api, petalsJson(), metrics.petalsRestarts) } },
    { method: 'GET', path: '/v1/network/info', description: 'Model, total blocks, bootstrap peers, online nodes, coverage percent, ready for inference', handler: ({ url }) => { checkParams(url, []); return networkInfo(api) } },
    { method: 'GET', path: '/v1/network/coverage', description: 'Per block: online servers, summed throughput, replication, pending claims', handler: ({ url }) => { checkParams(url, []); return coverageJson(node.membership.coverage()) } },
    {
      method: 'GET',
      path: '/v1/network/plan',
      description: 'Placement preview: ?capacity=C[&throughput=T] (a node joins now) or ?leave=PEERID (that node leaves now)',
      handler: ({ url }) => {
        checkParams(url, ['capacity', 'throughput', 'leave'])
        const leave = stringParam(url, 'leave')
        const capacity = intParam(url, 'capacity', { min: 1, max: 100_000 })
        const throughput = numberParam(url, 'throughput', { min: 0, max: 1e9 })
        if (leave != null && (capacity != null || throughput != null)) throw new HttpError(400, 'give either capacity (and throughput) or leave, not both')
        if (node.membership.totalBlocks === 0) throw new HttpError(409, 'this node does not know the model\'s block count yet')
        if (leave != null) {
          if (leave.trim() === '') throw new HttpError(400, 'leave must be a peer id')
          const out = previewLeave(api, leave, planner)
          if (out == null) throw new HttpError(404, `no member ${leave} in this node's view`)
          return out
        }
        if (capacity == null) throw new HttpError(400, 'capacity is required (blocks the new node can hold), or leave=PEERID')
        return previewJoin(api, { capacity, throughput: throughput ?? node.config.swarm.throughput }, planner)
      }
    },
    {
      method: 'GET',
      path: '/v1/peers',
      description: 'The swarm table: this node and every member of its view (?liveness=alive,suspect,offline,left filters)',
      handler: ({ url }) => {
        checkParams(url, ['liveness'])
        const live = enumListParam(url, 'liveness', LIVENESS)
        return peersJson(api, live == null ? undefined : m => live.has(m.liveness))
      }
    },
    {
      method: 'GET',
      path: '/v1/peers/',
      description: 'One member of the swarm table',
      handler: ({ url, param }) => {
        checkParams(url, [])
        if (param === node.peerId) {
          const row = selfRow(api)
          if (row != null) return row
        }
        const m = node.membership.view.get(param)
        if (m == null) throw new HttpError(404, `no member ${param} in this node's view`)
        return memberJson(m, Date.now(), api.defense?.prober?.statusOf(m.peerId))
      }
    },
    {
      method: 'GET',
      path: '/v1/route',
      description: 'A route through the swarm as a client computes it (?mode=min-latency|max-throughput, ?measure=true|false to ping servers first)',
      handler: async ({ url }) => {
        checkParams(url, ['mode', 'measure'])
        const mode = enumParam(url, 'mode', ['min-latency', 'max-throughput'] as const, 'min-latency')
        const measure = boolParam(url, 'measure', true)
        return routeJson(mode, await routes.route({ mode, measure }))
      }
    },
    {
      method: 'GET',
      path: '/v1/logs',
      description: 'Recent Petals and node log lines (?limit=1..2000, ?source=petals,bridge,node, ?level=minimum level, ?since=ms)',
      handler: ({ url }) => {
        checkParams(url, ['limit', 'source', 'level', 'since'])
        const limit = intParam(url, 'limit', { min: 1, max: 2000, default: 200 })
        const sources = enumListParam(url, 'source', LOG_SOURCES)
        const level = enumParam(url, 'level', LOG_LEVELS)
        const since = intParam(url, 'since', { min: 0, max: Number.MAX_SAFE_INTEGER })
        const minRank = level == null ? -1 : LOG_LEVELS.indexOf(level)
        const all = mergeLogLines([opts.logLines?.() ?? [], ownLog.lines()])
        const lines = all.filter(l =>
          (sources == null || sources.has(l.source)) &&
          (since == null || l.ts >= since) &&
          (minRank < 0 || LOG_LEVELS.indexOf(l.level as typeof LOG_LEVELS[number]) >= minRank))
        return { lines: lines.slice(-limit), total: all.length }
      }
    },
    {
      method: 'GET',
      path: '/v1/events',
      description: 'Server-sent events: member-joined/updated/suspect/offline/left/back/pruned, self-updated, coverage, route-changed, node-stopping',
      handler: ({ req, res, url }) => {
        if (req.method === 'HEAD') throw new HttpError(405, 'HEAD is not allowed on /v1/events (open it with GET)', { allow: 'GET' })
        checkParams(url, ['lastEventId'])
        const fromQuery = intParam(url, 'lastEventId', { min: 0, max: Number.MAX_SAFE_INTEGER })
        const header = req.headers['last-event-id']
        const fromHeader = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : null
        if (!hub.attach(req, res, fromHeader ?? fromQuery)) throw new HttpError(503, 'too many event streams open on this node', { 'retry-after': '5' })
        return STREAMED
      }
    },
    {
      method: 'GET',
      path: '/v1/reachability',
      description: 'How peers reach this node: direct, mapped (UPnP), relayed; NAT seen, DHT mode, relay use, the port to forward',
      handler: ({ url }) => {
        checkParams(url, [])
        if (node.reachability == null) throw new HttpError(404, 'this node runs no NAT traversal (memory transport)')
        return node.reachability.status()
      }
    },
    {
      method: 'POST',
      path: '/v1/reachability/probe',
      description: 'Opens one negotiation stream to ?peer=PEERID and reports the path it took (direct or relayed)',
      handler: async ({ req, url }) => {
        checkParams(url, ['peer'])
        authorize(req)
        const peer = stringParam(url, 'peer')
        if (peer == null || peer.trim() === '') throw new HttpError(400, 'peer is required: ?peer=PEERID')
        try {
          return await probePeer(node.libp2p, node.membership, peer)
        } catch (err) {
          throw new HttpError(400, (err as Error).message)
        }
      }
    },
    {
      method: 'POST',
      path: '/v1/stop',
      description: 'Stops the node gracefully (needs a bearer token when the API is bound beyond loopback)',
      handler: ({ req, url }) => {
        checkParams(url, [])
        authorize(req)
        hub.publish('node-stopping', { peerId: node.peerId })
        logLine('warn', 'stop requested through the API')
        setTimeout(() => { void node.stop() }, 10)
        return { stopping: true }
      }
    }
  ]

  const find = (path: string): { matches: Endpoint[], param: string } => {
    const exact = endpoints.filter(e => e.path === path)
    if (exact.length > 0) return { matches: exact, param: '' }
    for (const e of endpoints) {
      if (!e.path.endsWith('/') || e.path === '/' || !path.startsWith(e.path)) continue
      const rest = path.slice(e.path.length)
      if (rest !== '' && !rest.includes('/')) return { matches: endpoints.filter(x => x.path === e.path), param: rest }
    }
    return { matches: [], param: '' }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      throw new HttpError(400, 'malformed request target')
    }
    if (loopback && req.headers.host != null) {
      const h = hostName(req.headers.host)
      if (!isLoopback(h) && !allowedHosts.has(h)) throw new HttpError(403, `Host ${JSON.stringify(req.headers.host)} is not a loopback name: this API only answers requests addressed to 127.0.0.1, ::1 or localhost`)
    }
    let path = url.pathname
    try { path = decodeURIComponent(path) } catch { throw new HttpError(400, 'malformed percent-encoding in the path') }
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
    const { matches, param } = find(path)
    if (matches.length === 0) throw new HttpError(404, `no such endpoint: ${req.method ?? 'GET'} ${url.pathname} (see GET /v1 for the list)`)
    const method = req.method === 'HEAD' ? 'GET' : req.method
    const ep = matches.find(e => e.method === method)
    const allow = [...new Set(matches.map(e => e.method))].join(', ')
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { allow })
      res.end()
      return
    }
    if (ep == null) throw new HttpError(405, `${req.method ?? '?'} is not allowed on ${url.pathname} (allowed: ${allow})`, { allow })
    const out = await ep.handler({ req, res, url, param })
    if (out === STREAMED) return
    if (out instanceof RawReply) {
      res.writeHead(out.status, { 'content-type': out.contentType, 'x-content-type-options': 'nosniff', ...out.headers })
      res.end(out.body)
      return
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    res.end(toJson(out))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500
      const message = err instanceof Error ? err.message : String(err)
      if (status === 500) node.log.warn({ err: message, url: req.url }, 'HTTP API handler failed')
      if (res.headersSent) { res.destroy(); return }
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...(err instanceof HttpError ? err.headers : {}) })
      res.end(toJson({ error: message, status }))
    })
  })
  // Slow or idle clients must not hold sockets forever (the event stream sends keep-alives).
  server.headersTimeout = 10_000
  server.requestTimeout = 30_000
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve() })
  }).catch((err: unknown) => {
    unwatch()
    hub.close()
    routes.close()
    if (ownMetrics) metrics.close()
    throw err
  })
  if (needToken && token == null) node.log.warn({ host: opts.host }, 'HTTP API bound beyond loopback without a token: mutating calls are disabled')
  const port = (server.address() as AddressInfo).port
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  logLine('info', `HTTP API listening on http://${host}:${port}/`)
  let closing: Promise<void> | null = null
  return {
    url: `http://${host}:${port}/`,
    port,
    metrics,
    events: hub,
    notify: (type, fields = {}) => {
      hub.publish(type, fields)
      logLine('info', `${type}${typeof fields.reason === 'string' ? `: ${fields.reason}` : ''}`)
    },
    close: async () => {
      closing ??= (async () => {
        unwatch()
        routes.close()
        if (ownMetrics) metrics.close()
        hub.close()
        server.closeAllConnections()
        await new Promise<void>(resolve => server.close(() => resolve()))
      })()
      await closing
    }
  }
}
