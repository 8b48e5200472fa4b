import { readFile, mkdir, stat, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { PetalmeshError } from '../util/errors.ts'

export const IDENTITY_FILE = 'identity.key'

export interface LoadedIdentity {
  privateKey: PrivateKey
  peerId: string
  path: string
  created: boolean
}

/**
 * Loads the node's Ed25519 key from `<dataDir>/identity.key` (libp2p protobuf encoding),
 * creating it with mode 0600 on first start so the PeerId survives restarts.
 */
export async function loadOrCreateIdentity (dataDir: string): Promise<LoadedIdentity> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, IDENTITY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new PetalmeshError(`cannot read identity file ${path}: ${(err as Error).message}. Check its permissions, or move it away to create a new identity (this changes the node's PeerId).`, { exitCode: 2, cause: err })
    }
  }
  if (bytes != null) {
    let privateKey: PrivateKey
    try {
      privateKey = privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new PetalmeshError(`identity file ${path} is not a libp2p private key (${(err as Error).message}). Restore it from a backup, or delete it to create a new identity (this changes the node's PeerId).`, { exitCode: 2, cause: err })
    }
    // A key readable by others is a leaked key; tighten it rather than refuse to start.
    const mode = (await stat(path)).mode & 0o777
    if ((mode & 0o077) !== 0) await chmod(path, 0o600)
    return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), path, created: false }
  }
  const privateKey = await generateKeyPair('Ed25519')
  await writeFileAtomic(path, privateKeyToProtobuf(privateKey), { mode: 0o600 })
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), path, created: true }
}

/** A new Ed25519 identity, encoded for `petalmesh keygen`. */
export async function generateIdentity (): Promise<{ peerId: string, privateKeyBase64: string }> {
  const privateKey = await generateKeyPair('Ed25519')
  return {
    peerId: peerIdFromPrivateKey(privateKey).toString(),
    privateKeyBase64: Buffer.from(privateKeyToProtobuf(privateKey)).toString('base64')
  }
}
