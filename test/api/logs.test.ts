// The log ring behind /v1/logs and its adapters (pino destination, merging sources).
import { describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { LogRing, MAX_LOG_LINE_CHARS, mergeLogLines, parsePinoLine } from '../../src/node/api/logs.ts'

describe('LogRing', () => {
  it('keeps the newest lines, oldest first, within its capacity', () => {
    const ring = new LogRing(3)
    expect(ring.lines()).toEqual([])
    for (let i = 0; i < 5; i++) ring.push({ ts: i, source: 'petals', level: 'info', text: `line ${i}` })
    expect(ring.size).toBe(3)
    expect(ring.lines().map(l => l.text)).toEqual(['line 2', 'line 3', 'line 4'])
    expect(ring.source()().map(l => l.ts)).toEqual([2, 3, 4])
  })

  it('cuts huge lines and refuses a nonsense capacity', () => {
    const ring = new LogRing(2)
    ring.push({ ts: 1, source: 'bridge', level: 'error', text: 'x'.repeat(MAX_LOG_LINE_CHARS + 500) })
    expect(ring.lines()[0].text.length).toBe(MAX_LOG_LINE_CHARS + 1)
    expect(() => new LogRing(0)).toThrow(RangeError)
    expect(() => new LogRing(1.5)).toThrow(RangeError)
  })

  it('is a pino destination for the node\'s own log', () => {
    const ring = new LogRing(10)
    const log = pino({ level: 'info', base: { node: 3 } }, ring.pinoStream())
    log.info({ peer: 'abc', span: { start: 0, end: 4 } }, 'member joined')
    log.warn('member offline')
    log.debug('not kept: below the level')
    const lines = ring.lines()
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({ source: 'node', level: 'info' })
    expect(lines[0].text).toBe('member joined node=3 peer=abc span={"start":0,"end":4}')
    expect(lines[1]).toMatchObject({ level: 'warn', text: 'member offline node=3' })
    expect(Math.abs(lines[0].ts - Date.now())).toBeLessThan(5000)
  })
})

describe('parsePinoLine and mergeLogLines', () => {
  it('parses pino JSON (numeric or ISO time) and keeps anything else as text', () => {
    expect(parsePinoLine('{"level":50,"time":1700000000000,"msg":"boom"}')).toEqual({ ts: 1700000000000, source: 'node', level: 'error', text: 'boom' })
    expect(parsePinoLine('{"level":30,"time":"2024-01-01T00:00:00.000Z","msg":"hi"}', 'bridge')).toMatchObject({ ts: Date.parse('2024-01-01T00:00:00.000Z'), source: 'bridge', level: 'info' })
    expect(parsePinoLine('plain text line')).toMatchObject({ level: 'info', text: 'plain text line' })
  })

  it('merges sources by time, stable for equal times', () => {
    const a = [{ ts: 1, source: 'petals' as const, level: 'info', text: 'a1' }, { ts: 5, source: 'petals' as const, level: 'info', text: 'a5' }]
    const b = [{ ts: 3, source: 'node' as const, level: 'info', text: 'b3' }, { ts: 5, source: 'node' as const, level: 'info', text: 'b5' }]
    expect(mergeLogLines([a, b]).map(l => l.text)).toEqual(['a1', 'b3', 'a5', 'b5'])
    expect(mergeLogLines([])).toEqual([])
  })
})
