// What a server's planner depends on beyond the swarm view. Servers re-run each other's plans to judge
// claims (PROTOCOL 15.4), so a swarm whose servers plan differently makes extra claims and moves; each
// server announces these settings in its record and every node compares them with its own.

/**
 * Bumped by every release whose planner decides differently on the same view (not by releases that
 * only change other parts). Version history in PROTOCOL 15.6.
 */
export const PLANNER_REVISION = 2

export interface PlannerSettings {
  revision: number
  /** "petalmesh", or "petals" (the Petals baseline, for side-by-side benchmarks). */
  name: string
  settleMs: number
  minGain: number
  reloadMs: number
  cooldownMs: number
}

/** A server's settings plus the replication target it announces (record field 22). */
export interface AnnouncedPlanner { settings: PlannerSettings | null, replication: number }

// min_gain travels as a 32-bit float: compare what the wire can carry.
const sameGain = (a: number, b: number): boolean => Math.fround(a) === Math.fround(b)
const gain = (x: number): number => Number(Math.fround(x).toPrecision(7))

/**
 * How `theirs` plans differently from `mine`, one readable item per difference ("minGain 0.01 here,
 * 0.2 there"); empty when they agree. A server without settings is older than this check (revision 0).
 */
export function plannerDifferences (mine: AnnouncedPlanner, theirs: AnnouncedPlanner): string[] {
  const out: string[] = []
  if (mine.replication !== theirs.replication) out.push(`replication ${mine.replication} here, ${theirs.replication} there`)
  const a = mine.settings
  const b = theirs.settings
  if (a == null || b == null) {
    if (a !== b) out.push(b == null ? 'planner settings not announced there (petalmesh older than planner revision 1)' : 'planner settings not announced here')
    return out
  }
  if (a.revision !== b.revision) out.push(`planner revision ${a.revision} here, ${b.revision} there (a different petalmesh release)`)
  if (a.name !== b.name) out.push(`planner ${a.name} here, ${b.name} there`)
  if (a.settleMs !== b.settleMs) out.push(`settleMs ${a.settleMs} here, ${b.settleMs} there`)
  if (!sameGain(a.minGain, b.minGain)) out.push(`minGain ${gain(a.minGain)} here, ${gain(b.minGain)} there`)
  if (a.reloadMs !== b.reloadMs) out.push(`reloadMs ${a.reloadMs} here, ${b.reloadMs} there`)
  if (a.cooldownMs !== b.cooldownMs) out.push(`cooldownMs ${a.cooldownMs} here, ${b.cooldownMs} there`)
  return out
}
