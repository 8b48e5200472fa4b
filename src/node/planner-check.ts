// Spots servers of this swarm that plan differently from this one (another release, or other
// swarm.* planner keys). They stay members — dropping them would cost coverage during a rolling
// upgrade — but the operator hears about it: a warning per peer and difference, the status API's
// `plannerMismatches`, and the petalmesh_planner_mismatched_peers gauge.
import type { Logger } from 'pino'
import { PLANNER_REVISION, plannerDifferences, type PlannerSettings } from '../protocols/coverage/planner-settings.ts'
import type { PetalmeshConfig } from './config.ts'
import type { Member } from './swarm-view.ts'

export interface PlannerMismatch {
  peerId: string
  publicName: string
  version: string
  /** One readable item per difference, e.g. "minGain 0.01 here, 0.2 there". */
  differs: string[]
}

/** What this server announces about its planner. */
export function plannerSettingsOf (swarm: PetalmeshConfig['swarm']): PlannerSettings {
  return { revision: PLANNER_REVISION, name: swarm.planner, settleMs: swarm.settleMs, minGain: swarm.minGain, reloadMs: swarm.reloadMs, cooldownMs: swarm.cooldownMs }
}

/** Live members whose planner differs from ours (ours: this server's settings and replication). */
export function plannerMismatches (mine: { settings: PlannerSettings, replication: number }, members: readonly Member[]): PlannerMismatch[] {
  const out: PlannerMismatch[] = []
  for (const m of members) {
    if (m.liveness !== 'alive' && m.liveness !== 'suspect') continue
    const differs = plannerDifferences(mine, { settings: m.record.planner ?? null, replication: m.record.replication })
    if (differs.length > 0) out.push({ peerId: m.peerId, publicName: m.record.publicName, version: m.record.softwareVersion, differs })
  }
  return out.sort((a, b) => a.peerId < b.peerId ? -1 : a.peerId > b.peerId ? 1 : 0)
}

/**
 * Warns once per peer and set of differences (again if they change, e.g. after the peer upgrades to
 * yet another release), so a long-running node's log is not flooded by a heartbeat-rate check.
 */
export function mismatchWarner (log: Logger, max = 10_000): (found: readonly PlannerMismatch[]) => void {
  const told = new Map<string, string>()
  return (found) => {
    for (const f of found) {
      const key = f.differs.join('; ')
      if (told.get(f.peerId) === key) continue
      if (told.size >= max) told.clear()
      told.set(f.peerId, key)
      log.warn({ peer: f.peerId, name: f.publicName, version: f.version, differs: f.differs }, 'a server of this swarm plans differently: upgrade or reconfigure all servers of a swarm together (README: "Keep a swarm\'s servers alike")')
    }
  }
}

/** This node's mismatches: none for a client, which does not plan. */
export function nodePlannerMismatches (node: { config: Pick<PetalmeshConfig, 'swarm'>, membership: { view: { all: () => Member[] } } }): PlannerMismatch[] {
  const swarm = node.config.swarm
  if (swarm.role !== 'server') return []
  return plannerMismatches({ settings: plannerSettingsOf(swarm), replication: swarm.replication }, node.membership.view.all())
}

/** Planner keys that are allowed but probably a mistake; the daemon logs each at start. */
export function plannerConfigWarnings (swarm: PetalmeshConfig['swarm']): string[] {
  const out: string[] = []
  if (swarm.role === 'server' && swarm.planner === 'petalmesh' && swarm.cooldownMs < swarm.reloadMs) {
    out.push(`swarm.cooldownMs (${swarm.cooldownMs} ms) is below swarm.reloadMs (${swarm.reloadMs} ms): a node may be asked to move again before its last reload has paid off; set cooldownMs well above reloadMs (default 3600000)`)
  }
  return out
}
