import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { signRecord, type NodeRecordData } from '../../src/protocols/membership/record.ts'

export const MODEL = 'test-model'

export async function keyAndId (): Promise<{ key: PrivateKey, id: string }> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

export function record (peerId: string, over: Partial<NodeRecordData> = {}): NodeRecordData {
  return {
    protocol: 1,
    peerId,
    instance: 7n,
    seq: 1000n,
    timestampMs: Date.now(),
    model: MODEL,
    totalBlocks: 24,
    span: { start: 0, end: 12 },
    state: 'online',
    loading: null,
    capacity: 12,
    throughput: 100,
    hardware: { type: 'sim', device: 'test', vramGb: 24 },
    publicName: 'n',
    softwareVersion: '0.1.0',
    petals: null,
    tokensSinceLast: 0,
    tokensTotal: 0,
    claimMs: 0,
    reachability: 'direct',
    replication: 1,
    prev: null,
    addrs: [],
    ...over
  }
}

export async function signed (key: PrivateKey, rec: NodeRecordData): Promise<Awaited<ReturnType<typeof signRecord>>> {
  return await signRecord(rec, key)
}
