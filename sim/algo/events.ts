// A discrete-event queue: binary heap on (time, insertion order), so equal times run in FIFO order
// and a run is reproducible.

interface Entry { t: number, seq: number, run: () => void }

export interface EventQueue {
  push: (t: number, run: () => void) => void
  pop: () => { t: number, run: () => void } | undefined
  size: () => number
}

export function createQueue (): EventQueue {
  const h: Entry[] = []
  let seq = 0
  const less = (a: Entry, b: Entry): boolean => a.t < b.t || (a.t === b.t && a.seq < b.seq)
  return {
    push (t, run) {
      h.push({ t, seq: seq++, run })
      let i = h.length - 1
      while (i > 0) {
        const p = (i - 1) >> 1
        if (!less(h[i], h[p])) break
        const tmp = h[i]; h[i] = h[p]; h[p] = tmp
        i = p
      }
    },
    pop () {
      if (h.length === 0) return undefined
      const top = h[0]
      const last = h.pop()!
      if (h.length > 0) {
        h[0] = last
        let i = 0
        for (;;) {
          const l = 2 * i + 1; const r = l + 1
          let m = i
          if (l < h.length && less(h[l], h[m])) m = l
          if (r < h.length && less(h[r], h[m])) m = r
          if (m === i) break
          const tmp = h[i]; h[i] = h[m]; h[m] = tmp
          i = m
        }
      }
      return top
    },
    size: () => h.length
  }
}
