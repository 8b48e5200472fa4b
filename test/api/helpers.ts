// Shared helpers for the HTTP API tests: a small in-process swarm with the API on one node, JSON
// requests, and a minimal server-sent-events reader over fetch.
import { request as httpRequest } from 'node:http'
import { startSwarm, waitFor, type Swarm, type SwarmNodeSpec, type SwarmOptions } from '../../sim/swarm.ts'
import { startHttpApi, type HttpApi, type HttpApiOptions } from '../../src/node/http-api.ts'
import type { PetalmeshNode } from '../../src/node/daemon.ts'

export { waitFor }

/**
 * 24 blocks, four servers: n0 0:8, n1 8:16, n2 16:24, n3 4:20. Every block is covered; blocks 0-3
 * and 20-23 have a single server, so stopping n0 or n2 opens a hole.
 */
export const SPANS = ['0:8', '8:16', '16:24', '4:20']
export const BLOCKS = 24

export interface ApiSwarm {
  swarm: Swarm
  node: PetalmeshNode
  api: HttpApi
  base: string
  stop: () => Promise<void>
}

export async function startApiSwarm (o: { spans?: string[], blocks?: number, heartbeatMs?: number, api?: Partial<HttpApiOptions>, spec?: (i: number) => SwarmNodeSpec, self?: SwarmOptions['self'] } = {}): Promise<ApiSwarm> {
  const spans = o.spans ?? SPANS
  const heartbeatMs = o.heartbeatMs ?? 500
  const swarm = await startSwarm({
    nodes: spans.length,
    totalBlocks: o.blocks ?? BLOCKS,
    heartbeatMs,
    spec: o.spec ?? (i => ({ span: spans[i], throughput: 100 + 10 * i })),
    self: o.self
  })
  const node = swarm.nodes[0]
  const api = await startHttpApi(node, { host: '127.0.0.1', port: 0, processMetrics: false, ...o.api })
  const converged = await waitFor(() => swarm.nodes.every(n => n.membership.view.live().length === spans.length - 1), 15_000)
  // Coverage events are coalesced (100 ms): wait for the one that reports the whole swarm, so a test
  // that changes the swarm next sees a coverage event for its own change.
  const settled = converged == null ? null : await waitFor(() => api.events.recent().some(e => e.type === 'coverage' && e.onlineNodes === spans.length), 5000)
  if (settled == null) {
    await api.close()
    await swarm.stop()
    throw new Error('the test swarm did not converge within 15 s')
  }
  return {
    swarm,
    node,
    api,
    base: api.url.replace(/\/$/, ''),
    stop: async () => {
      await api.close()
      await swarm.stop()
    }
  }
}

export interface JsonReply<T = unknown> {
  status: number
  headers: Headers
  body: T
}

export async function call<T = Record<string, unknown>> (base: string, path: string, init: RequestInit = {}): Promise<JsonReply<T>> {
  const res = await fetch(base + path, { ...init, signal: init.signal ?? AbortSignal.timeout(10_000) })
  const text = await res.text()
  let body: unknown = text
  if ((res.headers.get('content-type') ?? '').includes('application/json')) body = JSON.parse(text)
  return { status: res.status, headers: res.headers, body: body as T }
}

/** A raw request with a chosen Host header (fetch does not allow setting it). */
export async function rawGet (base: string, path: string, headers: Record<string, string>): Promise<{ status: number, body: string }> {
  const url = new URL(base + path)
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'GET', headers, timeout: 5000 }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('timeout', () => { req.destroy(new Error('timeout')) })
    req.on('error', reject)
    req.end()
  })
}

export interface SseEvent {
  id: string | null
  event: string
  data: string
}

/** Reads an event stream until `until` holds for an event (returns all events read) or the time is up. */
export class SseReader {
  readonly events: SseEvent[] = []
  ended = false
  private readonly ctrl = new AbortController()
  private readonly waiters = new Set<() => void>()
  private readonly done: Promise<void>
  status = 0

  constructor (url: string, headers: Record<string, string> = {}) {
    this.done = this.run(url, headers)
  }

  private async run (url: string, headers: Record<string, string>): Promise<void> {
    try {
      const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.ctrl.signal })
      this.status = res.status
      if (res.body == null) return
      const reader = res.body.getReader()
      const decoder = new TextDecoder()
      let buf = ''
      // Bounded by the stream's end or the abort in close().
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buf += decoder.decode(value, { stream: true })
        let sep = buf.indexOf('\n\n')
        while (sep >= 0) {
          const frame = buf.slice(0, sep)
          buf = buf.slice(sep + 2)
          const ev: SseEvent = { id: null, event: 'message', data: '' }
          let hasData = false
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) continue
            const i = line.indexOf(':')
            const field = i < 0 ? line : line.slice(0, i)
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '')
            if (field === 'id') ev.id = value
            else if (field === 'event') ev.event = value
            else if (field === 'data') { ev.data += (hasData ? '\n' : '') + value; hasData = true }
          }
          if (hasData) this.events.push(ev)
          sep = buf.indexOf('\n\n')
        }
        for (const w of this.waiters) w()
      }
    } catch {
      // aborted or connection closed
    } finally {
      this.ended = true
      for (const w of this.waiters) w()
    }
  }

  async waitFor (pred: (e: SseEvent) => boolean, timeoutMs: number): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const hit = this.events.find(pred)
      if (hit != null) return hit
      if (this.ended) return null
      await new Promise<void>(resolve => {
        const t = setTimeout(done, Math.max(1, deadline - Date.now()))
        function done (): void { clearTimeout(t); waiters.delete(done); resolve() }
        const waiters = this.waiters
        waiters.add(done)
      })
    }
    return this.events.find(pred) ?? null
  }

  async waitEnded (timeoutMs: number): Promise<boolean> {
    await Promise.race([this.done, new Promise(resolve => setTimeout(resolve, timeoutMs))])
    return this.ended
  }

  close (): void {
    this.ctrl.abort()
  }
}

export function json<T = Record<string, unknown>> (e: SseEvent): T {
  return JSON.parse(e.data) as T
}
