// Coverage logic: who serves which blocks. Pure functions only; the network layer feeds them views.
export type { CoverageParams, PlanDecision, PlanInput, PlanMember, PlanReason, PlanSelf } from './types.ts'
export { DEFAULT_COVERAGE_PARAMS, resolveParams } from './types.ts'
export type { BlockLoad, CoverageReport, LoadMember } from './coverage.ts'
export {
  THROUGHPUT_SCALE, blockLoad, clampSpan, coverCount, coverageReport, effectiveReplication, isPlanned,
  isServing, minOf, quantize, rangesBelow, usableLength
} from './coverage.ts'
export { canonicalCompare, peerHash } from './order.ts'
export type { SwarmPlan, SwarmView } from './planner.ts'
export { planSpan, planSwarm } from './planner.ts'
export type { ClaimResolution, ClaimsView } from './claims.ts'
export { resolveClaims } from './claims.ts'
export { olderRoundOutstanding } from './older-rounds.ts'
export type { MoveEconomics, RebalanceOptions } from './rebalance.ts'
export { planRebalance, requiredAfter, shouldMove } from './rebalance.ts'
export type { HealOptions, PlannedMove } from './heal.ts'
export type { RoundNode, RoundState, WindowScore } from './round-state.ts'
export { planHeal } from './heal.ts'
export type { PetalsSpan, Rng, ShouldChooseOptions } from './petals-baseline.ts'
export {
  petalsChooseBestBlocks, petalsChooseBestStart, petalsComputeThroughputs, petalsShouldChooseOtherBlocks,
  petalsShouldChooseOtherFrom, planSpanPetals
} from './petals-baseline.ts'
export type { BoundNode, UpperBoundOptions } from './upper-bound.ts'
export { bottleneckRatio, capacityBound, capacityBoundOf, upperBound } from './upper-bound.ts'
export type { AnnouncedPlanner, PlannerSettings } from './planner-settings.ts'
export { PLANNER_REVISION, plannerDifferences } from './planner-settings.ts'
