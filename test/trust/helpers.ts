// Helpers for the trust tests: real libp2p nodes on 127.0.0.1 (ephemeral ports) and temp dirs.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { ConnectionGater } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createPetalmeshLibp2p, type PetalmeshLibp2p, type Libp2pNodeOptions } from '../../src/node/libp2p.ts'

export interface TestNode {
  node: PetalmeshLibp2p
  id: string
  addr: Multiaddr
}

const nodes = new Set<PetalmeshLibp2p>()
const dirs = new Set<string>()

export async function keyAndId (): Promise<{ key: Awaited<ReturnType<typeof generateKeyPair>>, id: string }> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

/** A started TCP node on 127.0.0.1 with no DHT; stopped by stopAllNodes(). */
export async function startNode (opts: {
  key?: Awaited<ReturnType<typeof generateKeyPair>>
  connectionGater?: ConnectionGater
  connectionProtector?: Libp2pNodeOptions['connectionProtector']
} = {}): Promise<TestNode> {
  const privateKey = opts.key ?? await generateKeyPair('Ed25519')
  const node = await createPetalmeshLibp2p({
    privateKey,
    transport: 'tcp',
    listen: ['/ip4/127.0.0.1/tcp/0'],
    dhtMode: 'off',
    connectionGater: opts.connectionGater,
    connectionProtector: opts.connectionProtector
  })
  nodes.add(node)
  await node.start()
  // getMultiaddrs() already ends in /p2p/<id>.
  const addr = node.getMultiaddrs().find(a => a.toString().startsWith('/ip4/127.0.0.1/tcp/'))
  if (addr == null) throw new Error('node has no loopback TCP address')
  return { node, id: node.peerId.toString(), addr }
}

export async function stopAllNodes (): Promise<void> {
  const all = [...nodes]
  nodes.clear()
  await Promise.allSettled(all.map(async n => { await n.stop() }))
}

export async function tempDir (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'petalmesh-trust-'))
  dirs.add(d)
  return d
}

export async function removeTempDirs (): Promise<void> {
  const all = [...dirs]
  dirs.clear()
  await Promise.all(all.map(async d => { await rm(d, { recursive: true, force: true }) }))
}

/** Polls `fn` every `intervalMs` until it is true or `timeoutMs` passed; returns the final value. */
export async function eventually (fn: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (fn()) return true
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  return fn()
}

/** Dials `to` from `from` with a timeout; resolves to 'ok' or the error message. */
export async function tryDial (from: TestNode, to: TestNode, timeoutMs = 3000): Promise<'ok' | string> {
  try {
    await from.node.dial(to.addr, { signal: AbortSignal.timeout(timeoutMs) })
    return 'ok'
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  }
}

export function connected (a: TestNode, b: TestNode): boolean {
  return a.node.getPeers().some(p => p.toString() === b.id)
}

/**
 * True when `to` refuses `from`: the dial fails, or (a gater refuses only after the Noise handshake,
 * and the dialer's lazy muxer negotiation already resolved the dial) the connection is gone within
 * `withinMs` without `to` ever listing `from` as a peer, and a ping over it fails.
 */
export async function refused (from: TestNode, to: TestNode, withinMs = 2000): Promise<boolean> {
  let seenByTarget = false
  const watch = setInterval(() => { if (connected(to, from)) seenByTarget = true }, 10)
  try {
    const r = await tryDial(from, to)
    if (r !== 'ok') return !connected(to, from)
    if (!await eventually(() => !connected(from, to), withinMs, 10)) return false
    try {
      await from.node.services.ping.ping(to.addr, { signal: AbortSignal.timeout(withinMs) })
      return false
    } catch {
      return !seenByTarget && !connected(to, from)
    }
  } finally {
    clearInterval(watch)
  }
}
