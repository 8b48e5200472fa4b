// Admission policy rules, list file parsing and watching, the config schema, and createTrust's
// start-up errors (no libp2p here: see network.test.ts for real connections).
import { describe, it, expect, afterEach } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  AdmissionPolicy, parseAdmissionLists, watchListFile, readListFile, createTrust, trustConfigSchema,
  disconnectInadmissible, createAdmissionGater, generateSwarmKey, type ListFileWatcher, type AdmissionLists
} from '../../src/node/trust/index.ts'
import { ConfigError, type PetalmeshError } from '../../src/util/errors.ts'
import { tempDir, removeTempDirs, keyAndId, eventually } from './helpers.ts'

const watchers: ListFileWatcher[] = []
afterEach(async () => {
  for (const w of watchers.splice(0)) w.close()
  await removeTempDirs()
})

async function ids (n: number): Promise<string[]> {
  return await Promise.all(Array.from({ length: n }, async () => (await keyAndId()).id))
}

describe('AdmissionPolicy', () => {
  it('no lists: everyone is admitted; deny wins over allow; an allowlist admits only its peers', async () => {
    const [a, b, c, self] = await ids(4)
    expect(new AdmissionPolicy().isAdmitted(a)).toBe(true)
    const p = new AdmissionPolicy({ allow: [a, b], deny: [b], self })
    expect(p.isAdmitted(a)).toBe(true)
    expect(p.isAdmitted(b)).toBe(false)
    expect(p.isAdmitted(c)).toBe(false)
    // The node itself is always admitted, even when the allowlist omits it.
    expect(p.isAdmitted(self)).toBe(true)
    const denyOnly = new AdmissionPolicy({ deny: [a] })
    expect(denyOnly.isAdmitted(a)).toBe(false)
    expect(denyOnly.isAdmitted(c)).toBe(true)
  })

  it('file lists are merged with the config lists; listeners run only on real changes', async () => {
    const [a, b, c] = await ids(3)
    const p = new AdmissionPolicy({ allow: [a] })
    let changes = 0
    const off = p.onChange(() => { changes++ })
    expect(p.setFileLists({ allow: [b], deny: [] })).toBe(true)
    expect(p.isAdmitted(b) && p.isAdmitted(a) && !p.isAdmitted(c)).toBe(true)
    expect(p.setFileLists({ allow: [b], deny: [] })).toBe(false)
    expect(changes).toBe(1)
    p.setFileLists({ allow: [], deny: [a] })
    expect(p.isAdmitted(a)).toBe(false)
    expect(p.lists()).toEqual({ allow: [a], deny: [a] })
    expect(changes).toBe(2)
    off()
    p.setFileLists(null)
    expect(changes).toBe(2)
    expect(p.isAdmitted(a)).toBe(true)
  })

  it('canonicalises peer ids (a CIDv1 form matches the base58 form) and rejects bad ones', async () => {
    const [a] = await ids(1)
    const cid = peerIdFromString(a).toCID().toString()
    expect(cid).not.toBe(a)
    expect(new AdmissionPolicy({ deny: [cid] }).isAdmitted(a)).toBe(false)
    expect(() => new AdmissionPolicy({ allow: ['nope'] })).toThrow(ConfigError)
    expect(() => new AdmissionPolicy({ allow: ['nope'] })).toThrow(/trust\.allow\[0\] = "nope"/)
  })
})

describe('list file parsing', () => {
  it('accepts JSON and YAML, either key optional', async () => {
    const [a, b] = await ids(2)
    expect(parseAdmissionLists(JSON.stringify({ allow: [a] }), '/x/l.json')).toEqual({ allow: [a], deny: [] })
    expect(parseAdmissionLists(`deny:\n  - ${b}\nallow: [${a}]\n`, '/x/l.yaml')).toEqual({ allow: [a], deny: [b] })
    expect(parseAdmissionLists('{}', '/x/l.yaml')).toEqual({ allow: [], deny: [] })
  })

  it('says what is wrong and where', async () => {
    const [a] = await ids(1)
    const cases: Array<[string, string, RegExp]> = [
      ['', 'l.yaml', /the list file is empty; write \{\}/],
      ['{ "allow": ', 'l.json', /not valid JSON/],
      ['allow: [a', 'l.yaml', /not valid YAML/],
      ['[1, 2]', 'l.yaml', /must contain an object/],
      [`alow: [${a}]`, 'l.yaml', /unknown key "alow".*only "allow" and "deny"/],
      [`allow: ${a}`, 'l.yaml', /"allow" must be a list of peer ids/],
      ['deny: [42]', 'l.yaml', /deny\[0\] = 42 is not a string/],
      [`allow: [${a}, QmNotAPeer]`, 'l.yaml', /allow\[1\] = "QmNotAPeer" is not a valid peer id/]
    ]
    for (const [text, name, re] of cases) {
      const path = `/etc/petalmesh/${name}`
      let caught: unknown
      try { parseAdmissionLists(text, path) } catch (err) { caught = err }
      expect(caught, `${JSON.stringify(text)} should fail`).toBeInstanceOf(ConfigError)
      expect((caught as ConfigError).message).toMatch(re)
      expect((caught as ConfigError).message).toContain(`trust.listFile = "${path}"`)
      expect((caught as ConfigError).exitCode).toBe(2)
    }
  })
})

describe('list file watcher', () => {
  it('applies in-place edits and reports errors once, keeping the previous lists', async () => {
    const dir = await tempDir()
    const path = join(dir, 'lists.yaml')
    const [a, b] = await ids(2)
    await writeFile(path, `deny: [${a}]\n`)
    const first = await readListFile(path)
    const applied: AdmissionLists[] = []
    const errors: PetalmeshError[] = []
    // A long poll: changes here must come through fs.watch.
    const w = watchListFile(path, first.text, { pollMs: 60_000, debounceMs: 20, onLists: l => { applied.push(l) }, onError: e => { errors.push(e) } })
    watchers.push(w)
    await writeFile(path, `deny: [${a}, ${b}]\n`)
    expect(await eventually(() => applied.length === 1, 2000)).toBe(true)
    expect(applied[0]).toEqual({ allow: [], deny: [a, b] })
    await writeFile(path, 'deny: [oops]\n')
    expect(await eventually(() => errors.length === 1, 2000)).toBe(true)
    await w.check()
    await w.check()
    expect(errors.length).toBe(1)
    expect(applied.length).toBe(1)
  })

  it('polling alone catches changes (fs.watch unavailable or missed)', async () => {
    const dir = await tempDir()
    const path = join(dir, 'lists.json')
    const [a] = await ids(1)
    await writeFile(path, '{}')
    const applied: AdmissionLists[] = []
    const w = watchListFile(path, '{}', { pollMs: 100, debounceMs: 60_000, onLists: l => { applied.push(l) }, onError: () => {} })
    watchers.push(w)
    await writeFile(path, JSON.stringify({ allow: [a] }))
    expect(await eventually(() => applied.length === 1, 2000)).toBe(true)
    expect(applied[0].allow).toEqual([a])
  })

  it('a throwing error reporter or list consumer does not break the watcher', async () => {
    const dir = await tempDir()
    const path = join(dir, 'lists.json')
    await writeFile(path, '{}')
    let calls = 0
    const w = watchListFile(path, null, { pollMs: 60_000, onLists: () => { calls++; throw new Error('boom') }, onError: () => { calls++; throw new Error('boom') } })
    watchers.push(w)
    await expect(w.check()).resolves.toBeUndefined()
    expect(calls).toBe(2)
  })
})

describe('config schema and createTrust', () => {
  it('defaults, descriptions and peer id validation', async () => {
    expect(trustConfigSchema.parse({})).toMatchObject({ swarmKeyFile: '', allow: [], deny: [], listFile: '' })
    expect(trustConfigSchema.parse({}).guard).toMatchObject({ disconnectScore: -1000, disconnectPenalty: 20 })
    for (const [key, schema] of Object.entries(trustConfigSchema.shape)) {
      expect((schema as z.ZodType).description, key).toBeTruthy()
    }
    const [a] = await ids(1)
    expect(trustConfigSchema.safeParse({ allow: [a] }).success).toBe(true)
    const bad = trustConfigSchema.safeParse({ deny: [a, 'x'] })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues[0].path).toEqual(['deny', 1])
    expect(bad.error?.issues[0].message).toMatch(/not a valid peer id/)
    expect(trustConfigSchema.safeParse({ deny: [], typo: 1 }).success).toBe(false)
    // Nested as the daemon will nest it.
    const outer = z.object({ trust: trustConfigSchema.prefault({}) })
    expect(outer.parse({}).trust.allow).toEqual([])
  })

  it('an open swarm with no lists: no protector, everyone admitted', async () => {
    const t = await createTrust(trustConfigSchema.parse({}), { env: {} })
    expect(t.connectionProtector).toBeUndefined()
    expect(t.swarmKey).toBeNull()
    expect(t.policy.isAdmitted((await ids(1))[0])).toBe(true)
    t.close()
    t.close()
  })

  it('fails fast on a missing or malformed list file and passes key warnings on', async () => {
    const dir = await tempDir()
    await expect(createTrust(trustConfigSchema.parse({ listFile: join(dir, 'none.yaml') }), { env: {} })).rejects.toThrow(/trust\.listFile.*none\.yaml.*file does not exist/)
    await writeFile(join(dir, 'bad.yaml'), 'allow: nope')
    await expect(createTrust(trustConfigSchema.parse({ listFile: join(dir, 'bad.yaml') }), { env: {} })).rejects.toThrow(ConfigError)
    const keyFile = join(dir, 'swarm.key')
    await writeFile(keyFile, generateSwarmKey(), { mode: 0o640 })
    const warnings: string[] = []
    const t = await createTrust(trustConfigSchema.parse({ swarmKeyFile: keyFile }), { env: {}, onWarn: w => { warnings.push(w) } })
    expect(t.connectionProtector).toBeTypeOf('function')
    expect(warnings.join('\n')).toMatch(/accessible by group or others \(mode 0640\)/)
    t.close()
  })
})

describe('gater and hang-up sweep', () => {
  it('the gater follows the live policy', async () => {
    const [a, b] = await ids(2)
    const p = new AdmissionPolicy()
    const g = createAdmissionGater(p)
    const pa = peerIdFromString(a)
    expect(g.denyDialPeer?.(pa)).toBe(false)
    p.setFileLists({ allow: [b], deny: [] })
    expect(g.denyDialPeer?.(pa)).toBe(true)
    expect(g.denyInboundEncryptedConnection?.(pa, {} as never)).toBe(true)
    expect(g.denyOutboundEncryptedConnection?.(peerIdFromString(b), {} as never)).toBe(false)
  })

  it('hangs up on exactly the peers no longer admitted, even if one hang-up fails', async () => {
    const [a, b, c] = await ids(3)
    const peers = [a, b, c].map(id => peerIdFromString(id))
    const hungUp: string[] = []
    const node = {
      getPeers: () => peers,
      hangUp: async (p: (typeof peers)[number]) => {
        hungUp.push(p.toString())
        if (p.toString() === c) throw new Error('already closing')
      }
    }
    const p = new AdmissionPolicy({ deny: [b, c] })
    expect((await disconnectInadmissible(node, p)).sort()).toEqual([b, c].sort())
    expect(hungUp.sort()).toEqual([b, c].sort())
  })
})
