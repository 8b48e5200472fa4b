// Comparing two planners' runs the way the issue orders the goals, not on the bottleneck alone.
import type { SimResult } from '../types.ts'

/** Shares of time closer than this count as level when comparing on the issue's order. */
export const ORDER_TOLERANCE = 0.01

export function replicatedShare (r: SimResult | null | undefined): number {
  const v = r?.extra?.replicatedShare
  return typeof v === 'number' ? v : 0
}

/**
 * The issue's order: cover every block, then reach the replication target, then the bottleneck. A
 * planner that gives up replicas for a higher bottleneck is behind on this order, not ahead.
 */
export function aheadOnIssueOrder (a: SimResult, b: SimResult | null | undefined): boolean {
  if (b == null) return true
  const keys: Array<[number, number]> = [[a.availability ?? 0, b.availability ?? 0], [replicatedShare(a), replicatedShare(b)]]
  for (const [x, y] of keys) if (Math.abs(x - y) > ORDER_TOLERANCE) return x > y
  return (a.bottleneckRatio ?? 0) >= (b.bottleneckRatio ?? 0)
}
