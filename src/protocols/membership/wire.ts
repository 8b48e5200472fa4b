// The generated codecs (membership.ts, from membership.proto), loaded with the uint64 writer fix.
// Import wire codecs from here, never from membership.ts directly.
import './uint64-fix.ts'
export * from './membership.ts'
