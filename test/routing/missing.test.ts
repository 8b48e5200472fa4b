import { describe, expect, it } from 'vitest'
import { findRoute, formatBlocks, missingBlocks } from '../../src/protocols/routing/index.ts'
import type { RouteResult } from '../../src/protocols/routing/index.ts'
import { srv } from './helpers.ts'

function errorOf (result: RouteResult): { missing: unknown, message: string } {
  if (result.ok) throw new Error('expected a missing-blocks error')
  return result.error
}

describe('missingBlocks and its messages', () => {
  it('reports a single block', () => {
    const servers = [srv('A', 0, 12), srv('B', 13, 20)]
    expect(missingBlocks(20, servers)).toEqual([{ start: 12, end: 13 }])
    for (const mode of ['min-latency', 'max-throughput'] as const) {
      const error = errorOf(findRoute({ totalBlocks: 20, servers, mode, seed: 1 }))
      expect(error.missing).toEqual([{ start: 12, end: 13 }])
      expect(error.message).toBe('block 12 has no online server')
    }
  })

  it('reports a range with an en dash', () => {
    const servers = [srv('A', 0, 40)]
    expect(missingBlocks(48, servers)).toEqual([{ start: 40, end: 48 }])
    expect(errorOf(findRoute({ totalBlocks: 48, servers, mode: 'min-latency' })).message).toBe('blocks 40–47 have no online server')
  })

  it('reports several ranges', () => {
    const servers = [srv('A', 4, 10), srv('B', 11, 20)]
    expect(missingBlocks(24, servers)).toEqual([{ start: 0, end: 4 }, { start: 10, end: 11 }, { start: 20, end: 24 }])
    expect(errorOf(findRoute({ totalBlocks: 24, servers, mode: 'max-throughput', seed: 3 })).message)
      .toBe('blocks 0–3, 10, 20–23 have no online server')
  })

  it('says so when nothing is online', () => {
    const servers = [srv('A', 0, 8, 100, { state: 'loading' }), srv('B', 0, 8, 100, { state: 'offline' })]
    expect(missingBlocks(8, servers)).toEqual([{ start: 0, end: 8 }])
    expect(errorOf(findRoute({ totalBlocks: 8, servers, mode: 'min-latency' })).message)
      .toBe('blocks 0–7 have no online server (no server in the swarm is online)')
    expect(errorOf(findRoute({ totalBlocks: 8, servers: [], mode: 'min-latency' })).message)
      .toBe('blocks 0–7 have no online server (no server in the swarm is online)')
  })

  it('counts only online servers and clips spans to the model', () => {
    const servers = [srv('A', 0, 4), srv('B', 4, 8, 100, { state: 'joining' }), srv('C', 6, 30), { ...srv('D', 0, 1), span: null }]
    expect(missingBlocks(10, servers)).toEqual([{ start: 4, end: 6 }])
    expect(missingBlocks(10, servers, { start: 6, end: 10 })).toEqual([])
  })

  it('formats block lists', () => {
    expect(formatBlocks([{ start: 3, end: 4 }])).toBe('block 3')
    expect(formatBlocks([{ start: 3, end: 4 }, { start: 7, end: 8 }])).toBe('blocks 3, 7')
    expect(formatBlocks([{ start: 0, end: 2 }])).toBe('blocks 0–1')
  })

  it('an empty model needs no server', () => {
    expect(missingBlocks(0, [])).toEqual([])
    const result = findRoute({ totalBlocks: 0, servers: [], mode: 'min-latency' })
    expect(result.ok && result.route.hops).toEqual([])
  })
})
