// Node identity: a stable PeerId across restarts, a private key file only its owner can read,
// one daemon per data dir, and `petalmesh keygen`.
import { afterAll, describe, expect, it } from 'vitest'
import { chmod, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../src/node/identity.ts'
import { validateConfig } from '../../src/node/config.ts'
import { startNode } from '../../src/node/daemon.ts'
import { silentLogger } from '../../src/node/logger.ts'
import { PetalmeshError } from '../../src/util/errors.ts'
import { keygen, killAllDaemons, makeTempDir, removeTempDirs, runCli, startDaemon } from '../helpers/cli.ts'

afterAll(async () => {
  await killAllDaemons()
  await removeTempDirs()
})

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

describe('identity of a daemon (CLI)', () => {
  it('keeps the same PeerId across a restart on the same data dir; identity.key has mode 0600', async () => {
    // A data dir that does not exist yet: the daemon creates it, private to its owner.
    const dataDir = join(await makeTempDir(), 'data')
    const first = await startDaemon({ dataDir })
    const s1 = await first.waitReady()
    expect(first.logs.some(l => l.msg === 'created a new node identity'), 'first start creates the key').toBe(true)
    const keyPath = join(dataDir, IDENTITY_FILE)
    expect((await modeOf(keyPath)).toString(8)).toBe('600')
    expect((await modeOf(dataDir)).toString(8)).toBe('700')
    const keyBytes = await readFile(keyPath)
    expect(peerIdFromPrivateKey(privateKeyFromProtobuf(keyBytes)).toString()).toBe(s1.peerId)
    const startedLog = first.logs.find(l => l.msg === 'libp2p started')
    expect(startedLog?.peerId).toBe(s1.peerId)

    first.kill('SIGTERM')
    expect((await first.waitExit(5000)).code, first.logText()).toBe(0)

    const second = await startDaemon({ dataDir })
    const s2 = await second.waitReady()
    expect(s2.peerId).toBe(s1.peerId)
    expect(second.logs.some(l => l.msg === 'created a new node identity'), 'restart reuses the key').toBe(false)
    expect(s2.addresses.every(a => a.endsWith(`/p2p/${s1.peerId}`))).toBe(true)
    expect(Buffer.compare(await readFile(keyPath), keyBytes)).toBe(0)
    expect((await modeOf(keyPath)).toString(8)).toBe('600')
    second.kill('SIGINT')
    expect((await second.waitExit(5000)).code, second.logText()).toBe(0)
  })

  it('refuses a second daemon on the same data dir with exit code 2 and a message naming the running pid', async () => {
    const first = await startDaemon()
    const s = await first.waitReady()
    const r = await runCli(['start', '-d', first.dataDir, '-l', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-format', 'json', '--set', 'bootstrap='])
    expect(r.timedOut).toBe(false)
    expect(r.exitCode, r.stderr).toBe(2)
    expect(r.stderr).toContain(`pid ${first.pid}`)
    expect(r.stderr).toContain(first.dataDir)
    // The first daemon is unaffected: still running, still the one api.json points to.
    expect(first.exit).toBeNull()
    expect((await first.status()).peerId).toBe(s.peerId)
    const api = JSON.parse(await readFile(join(first.dataDir, 'api.json'), 'utf8')) as { pid: number }
    expect(api.pid).toBe(first.pid)
    first.kill('SIGTERM')
    expect((await first.waitExit(5000)).code).toBe(0)
  })

  it('refuses to start on a corrupt identity.key with exit code 2 and a message naming the file', async () => {
    const dataDir = await makeTempDir()
    await writeFile(join(dataDir, IDENTITY_FILE), 'this is not a key', { mode: 0o600 })
    const r = await runCli(['start', '-d', dataDir, '-l', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--log-format', 'json', '--set', 'bootstrap='])
    expect(r.timedOut).toBe(false)
    expect(r.exitCode, r.stderr).toBe(2)
    expect(r.stderr).toContain(join(dataDir, IDENTITY_FILE))
    expect(r.stderr).toContain('not a libp2p private key')
    // The bad key is left alone for the operator to inspect.
    expect(await readFile(join(dataDir, IDENTITY_FILE), 'utf8')).toBe('this is not a key')
  })
})

describe('startNode on a bad identity (in process)', () => {
  // Regression test (fixed bug, src/node/daemon.ts startNode): the lock is taken before the try/catch that runs the cleanups,
  // so an error in loadOrCreateIdentity / parseSpan / createPetalmeshLibp2p leaves daemon.lock behind
  // (a later daemon is refused if the dead pid gets reused).
  it('a start refused for a corrupt identity.key leaves no daemon.lock behind', async () => {
    const dataDir = await makeTempDir()
    await writeFile(join(dataDir, IDENTITY_FILE), 'corrupt', { mode: 0o600 })
    const config = validateConfig({ bootstrap: [], dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], api: { port: 0 } })
    await expect(startNode({ config, log: silentLogger() })).rejects.toThrow('not a libp2p private key')
    expect(await readdir(dataDir)).toEqual([IDENTITY_FILE])
  })
})

describe('petalmesh keygen', () => {
  it('prints a fresh Ed25519 peer id and its base64 libp2p private key as JSON', async () => {
    const [k1, k2] = await Promise.all([keygen(), keygen()])
    for (const k of [k1, k2]) {
      expect(Object.keys(k).sort()).toEqual(['peerId', 'privateKeyBase64'])
      expect(k.peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]{44}$/)
      const key = privateKeyFromProtobuf(Buffer.from(k.privateKeyBase64, 'base64'))
      expect(key.type).toBe('Ed25519')
      expect(peerIdFromPrivateKey(key).toString()).toBe(k.peerId)
    }
    expect(k1.peerId).not.toBe(k2.peerId)
  })

  it('a keygen key saved as <dataDir>/identity.key becomes the node identity', async () => {
    const k = await keygen()
    const dataDir = await makeTempDir()
    await writeFile(join(dataDir, IDENTITY_FILE), Buffer.from(k.privateKeyBase64, 'base64'), { mode: 0o600 })
    const id = await loadOrCreateIdentity(dataDir)
    expect(id.created).toBe(false)
    expect(id.peerId).toBe(k.peerId)
  })
})

describe('loadOrCreateIdentity', () => {
  it('creates the key with mode 0600 (and the dir with 0700), then returns the same identity', async () => {
    const dataDir = join(await makeTempDir(), 'nested', 'data')
    const a = await loadOrCreateIdentity(dataDir)
    expect(a.created).toBe(true)
    expect(a.path).toBe(join(dataDir, IDENTITY_FILE))
    expect((await modeOf(a.path)).toString(8)).toBe('600')
    expect((await modeOf(dataDir)).toString(8)).toBe('700')
    expect(a.peerId).toBe(peerIdFromPrivateKey(a.privateKey).toString())
    const b = await loadOrCreateIdentity(dataDir)
    expect(b.created).toBe(false)
    expect(b.peerId).toBe(a.peerId)
    expect(b.privateKey.equals(a.privateKey)).toBe(true)
    // Two data dirs, two identities.
    const other = await loadOrCreateIdentity(await makeTempDir())
    expect(other.peerId).not.toBe(a.peerId)
  })

  it('leaves no temporary file behind (atomic write)', async () => {
    const dataDir = await makeTempDir()
    await loadOrCreateIdentity(dataDir)
    expect(await readdir(dataDir)).toEqual([IDENTITY_FILE])
  })

  it('tightens a key file readable by others to 0600 and keeps the identity', async () => {
    const dataDir = await makeTempDir()
    const a = await loadOrCreateIdentity(dataDir)
    await chmod(a.path, 0o644)
    const b = await loadOrCreateIdentity(dataDir)
    expect(b.peerId).toBe(a.peerId)
    expect((await modeOf(a.path)).toString(8)).toBe('600')
  })

  it('rejects a corrupt key file with a clear error (exit code 2, file named, no silent new identity)', async () => {
    const dataDir = await makeTempDir()
    const path = join(dataDir, IDENTITY_FILE)
    for (const content of [Buffer.from('garbage'), Buffer.alloc(0), Buffer.from([0x08, 0x01, 0x12, 0x03, 1, 2, 3])]) {
      await writeFile(path, content, { mode: 0o600 })
      const err = await loadOrCreateIdentity(dataDir).then(() => null, (e: unknown) => e)
      expect(err, `content ${content.toString('hex')}`).toBeInstanceOf(PetalmeshError)
      expect((err as PetalmeshError).exitCode).toBe(2)
      expect((err as Error).message).toContain(path)
      expect((err as Error).message).toContain('not a libp2p private key')
      expect(Buffer.compare(await readFile(path), content), 'corrupt file left untouched').toBe(0)
    }
  })

  it('reports an unreadable key path (a directory) with a clear error', async () => {
    const dataDir = await makeTempDir()
    await mkdir(join(dataDir, IDENTITY_FILE))
    const err = await loadOrCreateIdentity(dataDir).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(PetalmeshError)
    expect((err as PetalmeshError).exitCode).toBe(2)
    expect((err as Error).message).toContain(`cannot read identity file ${join(dataDir, IDENTITY_FILE)}`)
  })
})
