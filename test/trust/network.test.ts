// Real libp2p nodes on 127.0.0.1: the swarm key keeps outsiders from connecting, the admission
// policy refuses peers at connection, and list changes disconnect peers without a restart.
import { describe, it, expect, afterEach } from 'vitest'
import { writeFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createTrust, generateSwarmKey, writeSwarmKeyFile, trustConfigSchema, type Trust, type TrustConfig } from '../../src/node/trust/index.ts'
import { startNode, stopAllNodes, tempDir, removeTempDirs, keyAndId, tryDial, connected, eventually, refused } from './helpers.ts'
import type { PetalmeshError } from '../../src/util/errors.ts'

const trusts: Trust[] = []
afterEach(async () => {
  for (const t of trusts.splice(0)) t.close()
  await stopAllNodes()
  await removeTempDirs()
})

const noLists: TrustConfig = trustConfigSchema.parse({})

async function trustWith (config: Partial<TrustConfig>, opts: Parameters<typeof createTrust>[1] = {}): Promise<Trust> {
  const t = await createTrust({ ...noLists, ...config }, { env: {}, pollMs: 500, debounceMs: 50, ...opts })
  trusts.push(t)
  return t
}

describe('private swarm (pre-shared key)', () => {
  it('an outsider without the key cannot connect; two nodes with the same key can', async () => {
    const dir = await tempDir()
    const keyFile = join(dir, 'swarm.key')
    await writeSwarmKeyFile(keyFile, generateSwarmKey())
    const tA = await trustWith({ swarmKeyFile: keyFile })
    const tB = await trustWith({ swarmKeyFile: keyFile })
    expect(tA.connectionProtector).toBeDefined()
    expect(tA.swarmKey?.fingerprint).toBe(tB.swarmKey?.fingerprint)
    const a = await startNode({ connectionProtector: tA.connectionProtector, connectionGater: tA.gater })
    const b = await startNode({ connectionProtector: tB.connectionProtector, connectionGater: tB.gater })
    const outsider = await startNode()

    expect(await tryDial(b, a)).toBe('ok')
    expect(await eventually(() => connected(a, b), 2000)).toBe(true)
    await a.node.services.ping.ping(b.node.peerId)

    // Without the key the handshake cannot even start: the dial itself fails, both ways (at once,
    // or when the dial times out waiting for a Noise message that never decrypts).
    expect(await tryDial(outsider, a, 1000)).not.toBe('ok')
    expect(await tryDial(a, outsider, 1000)).not.toBe('ok')
    expect(connected(a, outsider)).toBe(false)
    expect(connected(outsider, a)).toBe(false)
  })

  it('a node with a different key cannot connect either', async () => {
    const tA = await trustWith({}, { env: { PETALMESH_SECRET_SWARM_KEY: generateSwarmKey() } })
    const tC = await trustWith({}, { env: { PETALMESH_SECRET_SWARM_KEY: generateSwarmKey() } })
    expect(tA.swarmKey?.source).toBe('env:PETALMESH_SECRET_SWARM_KEY')
    expect(tA.swarmKey?.fingerprint).not.toBe(tC.swarmKey?.fingerprint)
    const a = await startNode({ connectionProtector: tA.connectionProtector })
    const c = await startNode({ connectionProtector: tC.connectionProtector })
    expect(await tryDial(c, a, 1000)).not.toBe('ok')
    expect(await tryDial(a, c, 1000)).not.toBe('ok')
    expect(connected(a, c)).toBe(false)
  })
})

describe('admission policy at connection', () => {
  it('a peer with the key but not on the allowlist is refused; one on it is accepted', async () => {
    const key = generateSwarmKey()
    const env = { PETALMESH_SECRET_SWARM_KEY: key }
    const friend = await keyAndId()
    const stranger = await keyAndId()
    const tA = await trustWith({ allow: [friend.id] }, { env })
    const a = await startNode({ connectionProtector: tA.connectionProtector, connectionGater: tA.gater })
    const tF = await trustWith({}, { env })
    const f = await startNode({ key: friend.key, connectionProtector: tF.connectionProtector, connectionGater: tF.gater })
    const tS = await trustWith({}, { env })
    const s = await startNode({ key: stranger.key, connectionProtector: tS.connectionProtector, connectionGater: tS.gater })

    expect(await refused(s, a)).toBe(true)
    expect(await tryDial(f, a)).toBe('ok')
    expect(await eventually(() => connected(a, f), 2000)).toBe(true)
    await f.node.services.ping.ping(a.node.peerId)
    // Outbound too: A does not dial peers it does not admit (denyDialPeer).
    expect(await tryDial(a, s)).toMatch(/denied/i)
    expect(connected(a, s)).toBe(false)
  })

  it('a denied peer is refused even when also allowed', async () => {
    const peer = await keyAndId()
    const tA = await trustWith({ allow: [peer.id], deny: [peer.id] })
    const a = await startNode({ connectionGater: tA.gater })
    const p = await startNode({ key: peer.key })
    expect(await refused(p, a)).toBe(true)
  })
})

describe('list file reload', () => {
  it('denying a connected peer in the list file disconnects it without a restart', async () => {
    const dir = await tempDir()
    const listFile = join(dir, 'trust.yaml')
    await writeFile(listFile, 'deny: []\n')
    const errors: PetalmeshError[] = []
    const disconnected: string[][] = []
    const tA = await trustWith({ listFile }, { onError: e => { errors.push(e) }, onDisconnect: ids => { disconnected.push(ids) } })
    const a = await startNode({ connectionGater: tA.gater })
    tA.attach(a.node)
    const b = await startNode()
    const c = await startNode()
    expect(await tryDial(b, a)).toBe('ok')
    expect(await tryDial(c, a, 1500)).toBe('ok')
    expect(await eventually(() => connected(a, b) && connected(a, c), 2000)).toBe(true)

    // Editors replace files: write a sibling and rename it over the list file.
    const t0 = Date.now()
    await writeFile(listFile + '.new', `deny:\n  - ${b.id}\n`)
    await rename(listFile + '.new', listFile)
    expect(await eventually(() => !connected(a, b), 3000)).toBe(true)
    expect(Date.now() - t0).toBeLessThan(3000)
    expect(disconnected.flat()).toEqual([b.id])
    expect(connected(a, c)).toBe(true)
    expect(tA.policy.isAdmitted(b.id)).toBe(false)
    expect(await eventually(() => !connected(b, a), 2000)).toBe(true)
    // It cannot come back.
    expect(await refused(b, a)).toBe(true)

    // Lifting the ban (in-place edit) lets it connect again.
    await writeFile(listFile, '{}\n')
    expect(await eventually(() => tA.policy.isAdmitted(b.id), 3000)).toBe(true)
    expect(await tryDial(b, a)).toBe('ok')
    expect(await eventually(() => connected(a, b), 2000)).toBe(true)
    expect(errors).toEqual([])
  })

  it('a bad list file keeps the previous lists and reports the error', async () => {
    const dir = await tempDir()
    const listFile = join(dir, 'trust.json')
    const peer = await keyAndId()
    await writeFile(listFile, JSON.stringify({ deny: [peer.id] }))
    const errors: PetalmeshError[] = []
    const tA = await trustWith({ listFile }, { onError: e => { errors.push(e) } })
    const a = await startNode({ connectionGater: tA.gater })
    tA.attach(a.node)
    const p = await startNode({ key: peer.key })
    expect(tA.policy.isAdmitted(peer.id)).toBe(false)

    await writeFile(listFile, '{ "deny": [ "not-a-peer-id" ] }')
    expect(await eventually(() => errors.length > 0, 3000)).toBe(true)
    expect(errors[0].message).toContain(listFile)
    expect(errors[0].message).toContain('deny[0] = "not-a-peer-id" is not a valid peer id')
    expect(tA.policy.isAdmitted(peer.id)).toBe(false)
    expect(await refused(p, a)).toBe(true)

    // Broken JSON, then a deleted file: still the old lists, each problem reported once.
    await writeFile(listFile, '{ "deny": [')
    expect(await eventually(() => errors.length > 1, 3000)).toBe(true)
    expect(errors[1].message).toMatch(/not valid JSON/)
    await rm(listFile)
    expect(await eventually(() => errors.length > 2, 3000)).toBe(true)
    expect(errors[2].message).toContain('file does not exist')
    // Polls go on (every 500 ms here) without repeating the same report.
    await new Promise(resolve => setTimeout(resolve, 1200))
    expect(errors.length).toBe(3)
    expect(tA.policy.isAdmitted(peer.id)).toBe(false)
    expect(await refused(p, a)).toBe(true)

    // Fixed: the new lists apply.
    await writeFile(listFile, JSON.stringify({ deny: [] }))
    expect(await eventually(() => tA.policy.isAdmitted(peer.id), 3000)).toBe(true)
    expect(await tryDial(p, a)).toBe('ok')
    expect(await eventually(() => connected(a, p), 2000)).toBe(true)
  })
})
