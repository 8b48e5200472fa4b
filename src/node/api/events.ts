// Server-sent events for `/v1/events`: swarm changes (member joined, offline, left...), this node's own
// changes (state, span, loading), coverage changes and re-routes. A bounded ring of recent events lets a
// reconnecting EventSource resume from `Last-Event-ID` without missing anything still in the ring.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CoverageSummary, SwarmEvent } from '../swarm-view.ts'
import type { RoutePreview } from './route.ts'
import type { RouteAnswer } from '../router.ts'
import type { RouteMode } from '../../protocols/routing/types.ts'
import type { NodeRecordData } from '../../protocols/membership/record.ts'
import { formatSpan } from '../../protocols/types.ts'
import { memberJson, selfRow, toJson, type ApiNode } from './json.ts'
import type { ApiEvent } from './types.ts'

/** Every event type the stream sends (the SSE `event:` field). */
export const EVENT_TYPES = [
  'hello',
  'member-joined', 'member-updated', 'member-suspect', 'member-offline', 'member-left', 'member-back', 'member-pruned', 'twin-detected',
  'self-updated', 'coverage', 'route-changed', 'node-stopping', 'node'
] as const

export interface EventHubOptions {
  /** Events kept for replay to reconnecting clients. */
  ringSize?: number
  /** Concurrent streams; more get a 503. */
  maxClients?: number
  /** Comment line sent this often so proxies and browsers keep the stream open. */
  keepAliveMs?: number
  /** A client that has this many bytes queued is dropped (it reconnects and resumes). */
  maxQueuedBytes?: number
}

interface Client { res: ServerResponse }

export class EventHub {
  private nextId = 1
  private readonly ring: ApiEvent[] = []
  private readonly clients = new Set<Client>()
  private readonly opts: Required<EventHubOptions>
  private readonly keepAlive: ReturnType<typeof setInterval>
  private closed = false
  private readonly listeners = new Set<(e: ApiEvent) => void>()

  constructor (opts: EventHubOptions = {}) {
    this.opts = { ringSize: 256, maxClients: 64, keepAliveMs: 15_000, maxQueuedBytes: 1 << 20, ...opts }
    this.keepAlive = setInterval(() => { this.broadcastRaw(': keep-alive\n\n') }, this.opts.keepAliveMs)
    this.keepAlive.unref()
  }

  get clientCount (): number { return this.clients.size }

  /** Events still in the ring, oldest first. */
  recent (): ApiEvent[] { return [...this.ring] }

  /** Listens to every published event (in-process consumers, tests). Returns an unsubscribe function. */
  onEvent (fn: (e: ApiEvent) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  publish (type: string, fields: Omit<ApiEvent, 'id' | 'type' | 'at'> = {}): ApiEvent {
    const event: ApiEvent = { ...fields, id: this.nextId++, type, at: Date.now() }
    this.ring.push(event)
    if (this.ring.length > this.opts.ringSize) this.ring.shift()
    if (!this.closed) this.broadcastRaw(frame(event))
    for (const fn of this.listeners) {
      try { fn(event) } catch {}
    }
    return event
  }

  /** Takes over an HTTP request as an event stream. */
  attach (req: IncomingMessage, res: ServerResponse, lastEventId: number | null): boolean {
    if (this.closed || this.clients.size >= this.opts.maxClients) return false
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff'
    })
    res.flushHeaders()
    const client: Client = { res }
    this.clients.add(client)
    const drop = (): void => { this.clients.delete(client) }
    req.on('close', drop)
    res.on('close', drop)
    res.on('error', drop)
    let out = 'retry: 2000\n\n'
    if (lastEventId != null) {
      for (const e of this.ring) if (e.id > lastEventId) out += frame(e)
    }
    out += frame({ id: 0, type: 'hello', at: Date.now(), lastEventId: this.nextId - 1 }, false)
    res.write(out)
    return true
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.keepAlive)
    for (const c of this.clients) c.res.end()
    this.clients.clear()
    this.listeners.clear()
  }

  private broadcastRaw (text: string): void {
    for (const c of this.clients) {
      if (c.res.writableEnded || c.res.destroyed) { this.clients.delete(c); continue }
      if (c.res.writableLength > this.opts.maxQueuedBytes) {
        // A stalled reader: cut it loose rather than buffer without bound; EventSource reconnects.
        this.clients.delete(c)
        c.res.destroy()
        continue
      }
      c.res.write(text)
    }
  }
}

function frame (e: ApiEvent, withId = true): string {
  return `${withId ? `id: ${e.id}\n` : ''}event: ${e.type}\ndata: ${toJson(e)}\n\n`
}

/** Event fields for a swarm event (bigints as strings, members as peer rows). */
export function swarmEventFields (e: SwarmEvent): Omit<ApiEvent, 'id' | 'type' | 'at'> {
  switch (e.type) {
    case 'member-joined':
    case 'member-back':
    case 'member-left':
      return { peerId: e.peerId, member: memberJson(e.member) }
    case 'member-updated':
      return { peerId: e.peerId, member: memberJson(e.member), spanChanged: e.spanChanged, stateChanged: e.stateChanged }
    case 'member-offline':
      return { peerId: e.peerId, reason: e.reason, member: memberJson(e.member) }
    case 'member-suspect':
      return { peerId: e.peerId, reason: e.reason }
    case 'member-pruned':
      return { peerId: e.peerId }
    case 'twin-detected':
      return { peerId: e.peerId, instance: e.instance.toString() }
  }
}

/**
 * Feeds the hub from a node: swarm events, this node's announced changes, coverage changes (coalesced
 * over `coverageDelayMs`) and routes of `routes` broken by swarm changes. Returns a function that detaches everything.
 */
export function watchNode (node: ApiNode, hub: EventHub, opts: { routes?: RoutePreview, coverageDelayMs?: number, onLine?: (level: string, text: string) => void } = {}): () => void {
  const { membership } = node
  const delay = opts.coverageDelayMs ?? 100
  let lastCoverage = coverageKey(membership.coverage())
  let coverageTimer: ReturnType<typeof setTimeout> | null = null
  const checkCoverage = (): void => {
    coverageTimer = null
    const cov = membership.coverage()
    const key = coverageKey(cov)
    if (key === lastCoverage) return
    lastCoverage = key
    hub.publish('coverage', {
      coveragePercent: cov.coveragePercent,
      coveredBlocks: cov.coveredBlocks,
      readyForInference: cov.readyForInference,
      minReplication: cov.minReplication,
      avgReplication: Math.round(cov.avgReplication * 1000) / 1000,
      onlineNodes: cov.onlineNodes
    })
  }
  const scheduleCoverage = (): void => {
    if (coverageTimer != null) return
    coverageTimer = setTimeout(checkCoverage, delay)
    coverageTimer.unref()
  }

  const onSwarm = (e: SwarmEvent): void => {
    const fields = swarmEventFields(e)
    hub.publish(e.type, fields)
    if (e.type !== 'member-updated') {
      const reason = 'reason' in fields && typeof fields.reason === 'string' ? ` (${fields.reason})` : ''
      opts.onLine?.(e.type === 'twin-detected' ? 'error' : e.type === 'member-offline' ? 'warn' : 'info', `${e.type} ${e.peerId}${reason}`)
    }
    scheduleCoverage()
  }
  let lastSelf = selfKey(null)
  const onSelf = (r: NodeRecordData): void => {
    const key = selfKey(r)
    scheduleCoverage()
    if (key === lastSelf) return
    const first = lastSelf === selfKey(null)
    lastSelf = key
    const row = selfRow(node)
    hub.publish('self-updated', { peerId: node.peerId, member: row ?? undefined })
    if (!first) opts.onLine?.('info', `this node: ${r.state} ${formatSpan(r.span)}${r.loading != null ? ` loading ${r.loading.done}/${r.loading.total}` : ''}`)
  }
  const onRouteChanged = (ev: { mode: RouteMode, next: RouteAnswer, cause: SwarmEvent }): void => {
    hub.publish('route-changed', { mode: ev.mode, ok: ev.next.result.ok, cause: ev.cause.type, peerId: ev.cause.peerId })
  }
  membership.on('swarm', onSwarm)
  membership.on('self-published', onSelf)
  opts.routes?.on('changed', onRouteChanged)
  return () => {
    membership.off('swarm', onSwarm)
    membership.off('self-published', onSelf)
    opts.routes?.off('changed', onRouteChanged)
    if (coverageTimer != null) clearTimeout(coverageTimer)
  }
}

function coverageKey (cov: CoverageSummary): string {
  return `${cov.coveredBlocks}/${cov.minReplication}/${cov.avgReplication}/${cov.onlineNodes}/${cov.bottleneckThroughput}`
}

function selfKey (r: NodeRecordData | null): string {
  if (r == null) return ''
  return toJson([r.state, r.span, r.loading, r.capacity, r.throughput, r.petals?.state ?? null, r.publicName])
}
