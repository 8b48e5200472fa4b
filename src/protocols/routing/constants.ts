// Numbers taken from Petals (bigscience-workshop/petals, src/petals/client/...) and hivemind,
// converted to milliseconds. Each one names where it comes from so it can be re-checked.

/** `ClientConfig.ban_timeout = 15` (client/config.py): first ban lasts 15 s. */
export const PETALS_BAN_TIMEOUT_MS = 15_000
/** `Blacklist(base_time=ban_timeout, backoff_rate=2.0)` (client/routing/sequence_manager.py). */
export const PETALS_BAN_BACKOFF_RATE = 2

/** `_build_inference_graph(overhead_delay=0.018)`: serialization overhead added to every hop. */
export const PETALS_OVERHEAD_DELAY_MS = 18
/** `_build_inference_graph(default_inference_rps=300)`: compute speed assumed when unknown. */
export const PETALS_DEFAULT_INFERENCE_RPS = 300
/** `_build_inference_graph(alloc_delay=10)`: penalty for a server without enough attention cache. */
export const PETALS_ALLOC_DELAY_MS = 10_000
/**
 * `_rtt_to_delay(default_delay=0.15)` is a one-way delay; a hop in our model costs a full round trip
 * (see find-route.ts), so the unknown-RTT guess is twice that.
 */
export const PETALS_DEFAULT_RTT_MS = 300
/** `_rtt_to_delay(max_delay=5)` one-way, doubled: unreachable servers are penalised, not dropped. */
export const PETALS_MAX_RTT_MS = 10_000
/** `_make_sequence_with_max_throughput`: weight `eps = 1e-6` for servers whose ping failed (RTT = inf). */
export const PETALS_UNREACHABLE_WEIGHT = 1e-6

/** `PingAggregator(ema_alpha=0.2)` (utils/ping.py): RTTs are smoothed with this EMA factor. */
export const PETALS_PING_EMA_ALPHA = 0.2
/** `PingAggregator(expiration=300)`: how long a smoothed RTT is remembered. */
export const PETALS_PING_EXPIRATION_MS = 300_000

/** Ours (the brief): Petals waits `ping_timeout = 2` s per update; a ping to one server gets 1 s here. */
export const DEFAULT_PING_TIMEOUT_MS = 1_000
/** Ours: a fresh RTT is reused for 30 s before pinging again (Petals re-pings every `update_period = 60` s). */
export const DEFAULT_RTT_TTL_MS = 30_000
/** Ours: a failed ping marks the peer unreachable for only 5 s, so a transient loss heals quickly. */
export const DEFAULT_RTT_FAILURE_TTL_MS = 5_000
