// Notices when this process stops running timers on time (CPU starvation, long synchronous work,
// GC, suspend). A peer that "did not answer" while we were not listening has not failed, so
// liveness checks ask here before they count a timeout as evidence. One sampler per process:
// a stall is the whole process's, whichever node (in a simulation, nodes) asks.

const SAMPLE_MS = 100
/** A sample this much later than due counts as a stall. */
const STALL_MS = 200
const KEEP = 64

interface Stall { endMs: number, ms: number }

const stalls: Stall[] = []
let timer: ReturnType<typeof setInterval> | undefined
let users = 0
let last = 0

function sample (): void {
  const now = Date.now()
  const late = now - last - SAMPLE_MS
  last = now
  if (late >= STALL_MS) {
    stalls.push({ endMs: now, ms: late })
    if (stalls.length > KEEP) stalls.shift()
  }
}

/** Starts the sampler (reference-counted); call the returned function to release it. */
export function watchLoopStalls (): () => void {
  users++
  if (timer == null) {
    last = Date.now()
    timer = setInterval(sample, SAMPLE_MS)
    timer.unref()
  }
  let released = false
  return () => {
    if (released) return
    released = true
    users--
    if (users === 0 && timer != null) { clearInterval(timer); timer = undefined }
  }
}

/** Milliseconds the process spent stalled since `sinceMs` (Date.now() clock), as far as sampled. */
export function stalledSince (sinceMs: number): number {
  // A stall still in progress is only seen when it ends; sample now so the caller's own wait counts.
  if (timer != null) sample()
  let total = 0
  for (const s of stalls) if (s.endMs > sinceMs) total += Math.min(s.ms, s.endMs - sinceMs)
  return total
}
