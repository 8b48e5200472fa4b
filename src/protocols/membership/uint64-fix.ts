// protons-runtime (7.1.2, and 8.0.1) writes a uint64/int64 varint wrongly when the value lies in
// [2^31, 2^32): LongBits keeps its low word signed (`lo | 0`) and writeVarint64's loop
// `while (val.lo > 127)` then ends at once, leaving 4 of the 5 bytes it reserved unwritten. The record
// is corrupt and every peer rejects it. Such values occur in the wire format (a server's
// tokens_total after 2.1 billion tokens; a cooldown_ms of 25–30 days). Below 2^32 a uint64 varint is
// the same bytes as a uint32 varint, which protons writes correctly, so those values go that way.
// The patch applies only while the probe shows the bug, so a fixed protons-runtime makes it a no-op.
import { writer } from 'protons-runtime'

interface Uint64Writer { uint64: (v: bigint) => unknown, int64: (v: bigint) => unknown, uint32: (v: number) => unknown, finish: () => Uint8Array }

const TWO_32 = 4_294_967_296n

/** Writes 2^31 and checks the five bytes a varint of it must be. */
function writesCorrectly (): boolean {
  const w = writer() as unknown as Uint64Writer
  w.uint64(2_147_483_648n)
  const b = w.finish()
  return b.length === 5 && b[0] === 0x80 && b[1] === 0x80 && b[2] === 0x80 && b[3] === 0x80 && b[4] === 0x08
}

/** True when protons-runtime had the bug and its writer is now corrected. */
export const uint64Patched: boolean = (() => {
  if (writesCorrectly()) return false
  const proto = Object.getPrototypeOf(writer()) as Uint64Writer
  const { uint64, int64 } = proto
  proto.uint64 = function (this: Uint64Writer, v: bigint) { return v >= 0n && v < TWO_32 ? this.uint32(Number(v)) : uint64.call(this, v) }
  proto.int64 = function (this: Uint64Writer, v: bigint) { return v >= 0n && v < TWO_32 ? this.uint32(Number(v)) : int64.call(this, v) }
  if (!writesCorrectly()) throw new Error('protons-runtime: could not correct its uint64 writer (see src/protocols/membership/uint64-fix.ts)')
  return true
})()
