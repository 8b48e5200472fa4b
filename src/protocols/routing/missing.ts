import type { MemberInfo, Span } from '../types.ts'

/** A server's span clipped to `range`, or null when the two do not overlap. */
export function clipSpan (span: Span | null, range: Span): Span | null {
  if (span == null) return null
  const start = Math.max(span.start, range.start)
  const end = Math.min(span.end, range.end)
  return start < end ? { start, end } : null
}

/**
 * Blocks of `range` (default `[0, totalBlocks)`) that no server in `servers` covers, merged into
 * half-open ranges. Only `online` servers count: joining/loading servers hold a claim but serve nothing.
 */
export function missingBlocks (
  totalBlocks: number,
  servers: ReadonlyArray<Pick<MemberInfo, 'state' | 'span'>>,
  range: Span = { start: 0, end: totalBlocks }
): Span[] {
  return uncovered(range, servers.filter(s => s.state === 'online').map(s => s.span))
}

/** Blocks of `range` covered by none of `spans`, as merged half-open ranges. */
export function uncovered (range: Span, spans: ReadonlyArray<Span | null>): Span[] {
  const n = range.end - range.start
  if (n <= 0) return []
  // Difference array: +1 where a span starts, -1 where it ends; O(blocks + servers).
  const delta = new Int32Array(n + 1)
  for (const span of spans) {
    const c = clipSpan(span, range)
    if (c == null) continue
    delta[c.start - range.start] += 1
    delta[c.end - range.start] -= 1
  }
  const out: Span[] = []
  let depth = 0
  for (let i = 0; i < n; i++) {
    depth += delta[i]
    if (depth > 0) continue
    const block = range.start + i
    const last = out[out.length - 1]
    if (last != null && last.end === block) last.end = block + 1
    else out.push({ start: block, end: block + 1 })
  }
  return out
}

/** Total number of blocks in a list of ranges. */
export function countBlocks (spans: readonly Span[]): number {
  return spans.reduce((sum, s) => sum + (s.end - s.start), 0)
}

/** "block 12", "blocks 40–47", "blocks 3, 12, 40–47" (inclusive numbers, en dash). */
export function formatBlocks (spans: readonly Span[]): string {
  const parts = spans.map(s => s.end - s.start === 1 ? `${s.start}` : `${s.start}–${s.end - 1}`)
  return `${countBlocks(spans) === 1 ? 'block' : 'blocks'} ${parts.join(', ')}`
}

/** "blocks 40–47 have no online server" / "block 12 has no online server". */
export function describeMissing (missing: readonly Span[], what = 'no online server'): string {
  return `${formatBlocks(missing)} ${countBlocks(missing) === 1 ? 'has' : 'have'} ${what}`
}
