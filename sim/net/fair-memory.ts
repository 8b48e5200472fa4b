// libp2p's memory transport hands every buffer to the other side as a promise continuation, so a
// busy in-process swarm is one endless chain of microtasks: timers (heartbeats, silence timeouts,
// ping deadlines) wait until the traffic of the whole process has drained. At 100 nodes that was
// 15-70 s without a single timer running, and every liveness figure measured the simulator, not
// petalmesh. Real transports deliver from I/O callbacks, one event-loop turn at a time; this makes
// the memory transport do the same: each send is delivered from its own setImmediate (FIFO, so the
// order on a connection holds; close and reset queue behind the data already sent).
import type { Connection } from '@libp2p/interface'

interface MemoryMaConn {
  sendData: (data: { byteLength: number }) => { sentBytes: number, canSendMore: boolean }
  sendClose: (options?: unknown) => Promise<void>
  sendReset: () => void
}

let patched = false

/** Patches the memory transport's connection class once, found through any of its connections. */
export function deliverFromEventLoop (connection: Connection): void {
  if (patched) return
  const maConn = (connection as unknown as { maConn?: object }).maConn
  if (maConn == null) return
  const proto = Object.getPrototypeOf(maConn) as MemoryMaConn & { constructor: { name: string } }
  if (proto.constructor.name !== 'MemoryMultiaddrConnection') return
  patched = true
  const { sendData, sendClose, sendReset } = proto
  proto.sendData = function (this: MemoryMaConn, data) {
    setImmediate(() => { sendData.call(this, data) })
    return { sentBytes: data.byteLength, canSendMore: true }
  }
  proto.sendClose = async function (this: MemoryMaConn, options) {
    await new Promise(resolve => setImmediate(resolve))
    await sendClose.call(this, options)
  }
  proto.sendReset = function (this: MemoryMaConn) {
    setImmediate(() => { sendReset.call(this) })
  }
}
