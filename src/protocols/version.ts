// Every protocol id and gossip topic carries this version. Bump the major on any incompatible
// change: peers on another major refuse each other with a clear log line instead of half-understanding.
export const PROTOCOL_VERSION = '1.0.0'
export const PROTOCOL_MAJOR = 1
