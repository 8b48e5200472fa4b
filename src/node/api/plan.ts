// Placement previews for `/v1/network/plan`: runs the coverage planner on this node's view with a
// hypothetical change (a new node joins; a member leaves) and reports what every node would be told and
// what coverage would look like. Nothing is announced: the planner is a pure function of the view.
import { planSwarm, DEFAULT_COVERAGE_PARAMS, type PlanDecision, type PlanMember } from '../../protocols/coverage/index.ts'
import type { MemberInfo } from '../../protocols/types.ts'
import { coverageBrief, memberJson, selfRow, type ApiNode } from './json.ts'
import type { PlanActionJson, PlanDecisionJson, PlanJoinJson, PlanLeaveJson } from './types.ts'

/** The planner the preview runs; the default is the coverage protocol's `planSwarm`. */
export interface PlanPreviewer {
  plan: (input: { totalBlocks: number, replication: number, members: readonly PlanMember[], now: number }) => {
    decisions: ReadonlyMap<string, PlanDecision>
    actions: ReadonlyArray<{ peerId: string, decision: PlanDecision }>
  }
  /** Delay before a pending node is planned (the candidate is taken as settled). */
  settleMs: number
}

export const defaultPlanner: PlanPreviewer = {
  plan: (input) => planSwarm({ totalBlocks: input.totalBlocks, replication: input.replication, members: input.members, now: input.now }),
  settleMs: DEFAULT_COVERAGE_PARAMS.settleMs
}

/** Peer id given to the hypothetical new node (not a valid libp2p id, so it can never clash with one). */
export const CANDIDATE_ID = 'candidate(preview)'

/** The view as planner input: live members with their announced state, plus this node if it serves. */
export function planMembers (node: ApiNode): PlanMember[] {
  const out: PlanMember[] = []
  for (const m of node.membership.view.live()) {
    out.push({
      peerId: m.peerId,
      state: m.state,
      span: m.record.span,
      capacity: m.record.capacity,
      throughput: m.record.throughput,
      ...(m.record.claimMs > 0 ? { since: m.record.claimMs } : {})
    })
  }
  if (node.config.swarm.role === 'server') {
    const s = node.membership.selfState()
    out.push({ peerId: node.peerId, state: s.state, span: s.span, capacity: s.capacity, throughput: s.throughput, ...(s.claimMs > 0 ? { since: s.claimMs } : {}) })
  }
  return out
}

function decisionJson (d: PlanDecision): PlanDecisionJson {
  if (d.action === 'serve') return { action: 'serve', span: { start: d.span.start, end: d.span.end }, reason: d.reason }
  if (d.action === 'standby') return { action: 'standby', reason: d.reason }
  return { action: 'stay' }
}

/** Members as they would be once every decision is carried out and the new spans are online. */
function applyDecisions (members: readonly PlanMember[], decisions: ReadonlyMap<string, PlanDecision>): MemberInfo[] {
  return members.map(m => {
    const d = decisions.get(m.peerId)
    if (d == null || d.action === 'stay') return m
    if (d.action === 'standby') return { ...m, state: 'standby' as const, span: null }
    return { ...m, state: 'online' as const, span: d.span }
  })
}

function actionsJson (actions: ReadonlyArray<{ peerId: string, decision: PlanDecision }>, skip: string | null): PlanActionJson[] {
  return actions.filter(a => a.peerId !== skip).map(a => ({ peerId: a.peerId, decision: decisionJson(a.decision) }))
}

export function previewJoin (node: ApiNode, candidate: { capacity: number, throughput: number }, planner: PlanPreviewer = defaultPlanner, now = Date.now()): PlanJoinJson {
  const totalBlocks = node.membership.totalBlocks
  const members = planMembers(node)
  const me: PlanMember = {
    peerId: CANDIDATE_ID,
    state: 'joining',
    span: null,
    capacity: candidate.capacity,
    throughput: candidate.throughput,
    // Past the settle delay: the preview answers "if it had announced itself and been seen by everyone".
    since: now - planner.settleMs - 1
  }
  const all = [...members, me]
  const plan = planner.plan({ totalBlocks, replication: node.config.swarm.replication, members: all, now })
  const decision = plan.decisions.get(CANDIDATE_ID) ?? { action: 'stay' as const }
  return {
    kind: 'join',
    candidate,
    decision: decisionJson(decision),
    actions: actionsJson(plan.actions, CANDIDATE_ID),
    before: coverageBrief(members, totalBlocks),
    after: coverageBrief(applyDecisions(all, plan.decisions), totalBlocks)
  }
}

/** What happens if `peerId` left now. Returns null when this node does not know that member. */
export function previewLeave (node: ApiNode, peerId: string, planner: PlanPreviewer = defaultPlanner, now = Date.now()): PlanLeaveJson | null {
  const totalBlocks = node.membership.totalBlocks
  const self = selfRow(node)
  const member = peerId === node.peerId ? self : (() => { const m = node.membership.view.get(peerId); return m == null ? null : memberJson(m, now) })()
  if (member == null) return null
  const members = planMembers(node)
  const remaining = members.filter(m => m.peerId !== peerId)
  const plan = planner.plan({ totalBlocks, replication: node.config.swarm.replication, members: remaining, now })
  return {
    kind: 'leave',
    peerId,
    member,
    before: coverageBrief(members, totalBlocks),
    afterLeave: coverageBrief(remaining, totalBlocks),
    actions: actionsJson(plan.actions, null),
    afterHeal: coverageBrief(applyDecisions(remaining, plan.decisions), totalBlocks)
  }
}

