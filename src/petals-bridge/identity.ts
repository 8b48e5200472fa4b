// The Petals server's libp2p identity, generated and kept by petalmesh so the server's PeerId is known
// before launch. Format (hivemind p2p_daemon.py generate_identity): protobuf crypto.pb.PrivateKey
// {key_type=RSA, data=PKCS#1 DER}, file mode 0400. hivemind's identity check assumes RSA.

import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { networkInterfaces } from 'node:os'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { IdentityError } from './errors.ts'
import { withPeerId } from './maddr.ts'

export interface PetalsIdentity {
  path: string
  /** base58 peer ID, "Qm..." for RSA keys. */
  peerId: string
  /** True when this call generated the file. */
  created: boolean
}

/** The peer ID hivemind derives from an identity file's bytes. */
export function peerIdFromIdentityBytes (bytes: Uint8Array, path = '(identity)'): string {
  let key
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new IdentityError(path, `${path} is not a libp2p private key: ${(err as Error).message}`,
      'Delete the file to let petalmesh generate a new identity (the server then gets a new peer ID)', { cause: err })
  }
  if (key.type !== 'RSA') {
    throw new IdentityError(path, `${path} holds a ${key.type} key; hivemind's identity check needs RSA`,
      'Delete the file to let petalmesh generate an RSA identity')
  }
  return peerIdFromPrivateKey(key).toString()
}

/** Read an existing identity file; null if it does not exist. */
export async function readIdentity (path: string): Promise<PetalsIdentity | null> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new IdentityError(path, `Cannot read ${path}: ${(err as Error).message}`, 'Check the file permissions', { cause: err })
  }
  return { path, peerId: peerIdFromIdentityBytes(bytes, path), created: false }
}

/** Read the identity file, generating an RSA-2048 one first if it does not exist. */
export async function ensureIdentity (path: string): Promise<PetalsIdentity> {
  const existing = await readIdentity(path)
  if (existing != null) return existing
  const key = await generateKeyPair('RSA', 2048)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  await chmod(tmp, 0o400)
  await rename(tmp, path)
  return { path, peerId: peerIdFromPrivateKey(key).toString(), created: true }
}

/** Non-internal IPv4 addresses of this machine (what Petals announces when no public address is set). */
export function localIPv4Addresses (): string[] {
  const addresses: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4' && !info.internal) addresses.push(info.address)
    }
  }
  return addresses
}

export interface AnnounceInput {
  peerId: string
  port: number
  publicIp: string | null
  announceMaddrs: string[]
  /** Interface addresses used when neither publicIp nor announceMaddrs is set (default: localIPv4Addresses()). */
  hosts?: string[]
}

/** The hivemind multiaddrs the Petals server will be reachable at, as the node announces them. */
export function petalsMultiaddrs (input: AnnounceInput): string[] {
  if (input.publicIp != null) return [`/ip4/${input.publicIp}/tcp/${input.port}/p2p/${input.peerId}`]
  if (input.announceMaddrs.length > 0) return input.announceMaddrs.map((m) => withPeerId(m, input.peerId))
  const hosts = input.hosts ?? localIPv4Addresses()
  const list = hosts.length > 0 ? hosts : ['127.0.0.1']
  return list.map((host) => `/ip4/${host}/tcp/${input.port}/p2p/${input.peerId}`)
}
