// How many cases each property runs: thousands in CI, more with PETALMESH_FUZZ_RUNS=100000.
export const FUZZ_RUNS = Math.max(1, Number(process.env.PETALMESH_FUZZ_RUNS ?? '') || 2000)
/** Stream cases are slower (a real libp2p stream each): half the decoder runs, at least 1000. */
export const STREAM_RUNS = Math.max(1000, Math.floor(FUZZ_RUNS / 2))
