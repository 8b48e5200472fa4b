// A discrete-event queue: binary heap on (time, insertion order), so equal times run in FIFO order
// and a run is reproducible.

export interface SimEvent {
  t: number
  run: () => void
}

export class EventQueue {
  private readonly heap: Array<{ t: number, seq: number, run: () => void }> = []
  private seq = 0

  get size (): number { return this.heap.length }

  push (t: number, run: () => void): void {
    const h = this.heap
    h.push({ t, seq: this.seq++, run })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(h[i], h[p])) break
      const tmp = h[i]; h[i] = h[p]; h[p] = tmp
      i = p
    }
  }

  peekTime (): number {
    return this.heap.length === 0 ? Infinity : this.heap[0].t
  }

  pop (): { t: number, run: () => void } | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const top = h[0]
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1; const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l], h[m])) m = l
        if (r < h.length && this.less(h[r], h[m])) m = r
        if (m === i) break
        const tmp = h[i]; h[i] = h[m]; h[m] = tmp
        i = m
      }
    }
    return top
  }

  private less (a: { t: number, seq: number }, b: { t: number, seq: number }): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq)
  }
}
