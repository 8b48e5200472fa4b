// Swarm key generation, writing (atomic, 0600, no overwrite), loading from file and environment,
// and the errors a malformed key gives.
import { describe, it, expect, afterEach } from 'vitest'
import { readFile, writeFile, stat, readdir, chmod, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  generateSwarmKey, parseSwarmKey, loadSwarmKey, readSwarmKeyFile, writeSwarmKeyFile, swarmKeyFingerprint,
  SWARM_KEY_ENV
} from '../../src/node/trust/swarm-key.ts'
import { ConfigError, PetalmeshError, UsageError } from '../../src/util/errors.ts'
import { tempDir, removeTempDirs } from './helpers.ts'

afterEach(async () => { await removeTempDirs() })

const KEY_RE = /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/

async function expectConfigError (p: Promise<unknown> | (() => unknown), match: RegExp): Promise<ConfigError> {
  let caught: unknown
  try {
    if (typeof p === 'function') p()
    else await p
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(ConfigError)
  const e = caught as ConfigError
  expect(e.exitCode).toBe(2)
  expect(e.message).toMatch(match)
  return e
}

describe('generation', () => {
  it('produces the pnet v1 text: header, codec, 64 lowercase hex digits; each key differs', () => {
    const a = generateSwarmKey()
    const b = generateSwarmKey()
    expect(a).toMatch(KEY_RE)
    expect(a.length).toBe(95)
    expect(a).not.toBe(b)
    expect(Buffer.from(parseSwarmKey(a)).toString()).toBe(a)
  })
})

describe('writing a key file', () => {
  it('writes mode 0600 atomically (no temp file left) and refuses to overwrite without force', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    const key = generateSwarmKey()
    await writeSwarmKeyFile(path, key)
    expect(await readFile(path, 'utf8')).toBe(key + '\n')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['swarm.key'])

    const other = generateSwarmKey()
    const err = await writeSwarmKeyFile(path, other).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as UsageError).exitCode).toBe(2)
    expect((err as Error).message).toContain(`${path} already exists`)
    expect((err as Error).message).toContain('--force')
    expect(await readFile(path, 'utf8')).toBe(key + '\n')
    expect(await readdir(dir)).toEqual(['swarm.key'])

    await chmod(path, 0o644)
    await writeSwarmKeyFile(path, other, { force: true })
    expect(await readFile(path, 'utf8')).toBe(other + '\n')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['swarm.key'])
  })

  it('of concurrent writers without --force exactly one wins (no silent overwrite)', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    const keys = Array.from({ length: 5 }, () => generateSwarmKey())
    const results = await Promise.allSettled(keys.map(async k => { await writeSwarmKeyFile(path, k) }))
    const won = results.flatMap((r, i) => r.status === 'fulfilled' ? [keys[i]] : [])
    expect(won.length).toBe(1)
    expect(await readFile(path, 'utf8')).toBe(won[0] + '\n')
    expect(await readdir(dir)).toEqual(['swarm.key'])
  })

  it('readers never see a partial key while it is replaced', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    await writeSwarmKeyFile(path, generateSwarmKey())
    let stop = false
    let reads = 0
    const reader = (async () => {
      for (let i = 0; i < 10_000 && !stop; i++) {
        const text = await readFile(path, 'utf8')
        expect(text.trimEnd()).toMatch(KEY_RE)
        reads++
      }
    })()
    for (let i = 0; i < 20; i++) await writeSwarmKeyFile(path, generateSwarmKey(), { force: true })
    stop = true
    await reader
    expect(reads).toBeGreaterThan(0)
  })

  it('refuses a directory, a missing parent and an invalid key', async () => {
    const dir = await tempDir()
    await mkdir(join(dir, 'sub'))
    await expect(writeSwarmKeyFile(join(dir, 'sub'), generateSwarmKey(), { force: true })).rejects.toThrow(/is a directory/)
    await expect(writeSwarmKeyFile(join(dir, 'nope', 'swarm.key'), generateSwarmKey())).rejects.toThrow(/cannot create a file in .*nope.*does not exist/)
    await expect(writeSwarmKeyFile(join(dir, 'k'), 'hello')).rejects.toThrow(/invalid swarm key/)
  })
})

describe('loading', () => {
  it('loads from a file and from the environment; both give the same key and fingerprint', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    const key = generateSwarmKey()
    await writeSwarmKeyFile(path, key)
    const fromFile = await loadSwarmKey({ file: path, env: {} })
    expect(fromFile?.source).toBe(`file:${path}`)
    expect(fromFile?.warning).toBeUndefined()
    expect(Buffer.from(fromFile!.psk).toString()).toBe(key)
    const fromEnv = await loadSwarmKey({ env: { [SWARM_KEY_ENV]: key + '\n' } })
    expect(fromEnv?.source).toBe(`env:${SWARM_KEY_ENV}`)
    expect(fromEnv?.fingerprint).toBe(fromFile?.fingerprint)
    expect(fromEnv?.fingerprint).toBe(swarmKeyFingerprint(new TextEncoder().encode(key)))
    // Same key in both places is fine.
    expect((await loadSwarmKey({ file: path, env: { [SWARM_KEY_ENV]: key } }))?.fingerprint).toBe(fromFile?.fingerprint)
  })

  it('returns null when no key is configured (an empty variable counts as unset)', async () => {
    expect(await loadSwarmKey({ env: {} })).toBeNull()
    expect(await loadSwarmKey({ file: '', env: { [SWARM_KEY_ENV]: '  ' } })).toBeNull()
  })

  it('accepts the forms environment files produce: literal \\n, spaces, CRLF, uppercase hex', () => {
    const key = generateSwarmKey()
    const [h, c, hex] = key.split('\n')
    for (const variant of [`${h}\\n${c}\\n${hex}`, `${h} ${c} ${hex}`, `${h}\r\n${c}\r\n${hex.toUpperCase()}\r\n`, `\uFEFF${key}\n\n`]) {
      expect(Buffer.from(parseSwarmKey(variant)).toString()).toBe(key)
    }
  })

  it('warns when the key file is readable by group or others', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    await writeFile(path, generateSwarmKey(), { mode: 0o644 })
    await chmod(path, 0o644)
    const loaded = await readSwarmKeyFile(path)
    expect(loaded.warning).toContain(path)
    expect(loaded.warning).toContain('0644')
    expect(loaded.warning).toContain(`chmod 600 ${path}`)
  })

  it('refuses different keys in the file and the environment', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    await writeSwarmKeyFile(path, generateSwarmKey())
    await expectConfigError(loadSwarmKey({ file: path, env: { [SWARM_KEY_ENV]: generateSwarmKey() } }), /trust\.swarmKeyFile.*differs from the one in PETALMESH_SECRET_SWARM_KEY/)
  })
})

describe('bad keys give clear errors that name the file and never show the key', () => {
  const good = generateSwarmKey()
  const hex = good.split('\n')[2]
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /it is empty/],
    ['only the hex', hex, /holds only hex digits/],
    ['wrong header', `/key/swarm/psk/2.0.0/\n/base16/\n${hex}`, /line 1 must be \/key\/swarm\/psk\/1\.0\.0\/ \(found "\/key\/swarm\/psk\/2\.0\.0\/"\)/],
    ['base64 codec', `/key/swarm/psk/1.0.0/\n/base64/\n${hex}`, /line 2 must be \/base16\/ .*only base16/],
    ['missing key', '/key/swarm/psk/1.0.0/\n/base16/\n', /line 3 must hold the key/],
    ['short key', `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}`, /64 hex digits \(32 bytes\); it has 62/],
    ['not hex', `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(1)}z`, /it holds other characters/],
    ['trailing junk', `${good}\nextra`, /unexpected content after the key/]
  ]
  for (const [name, text, re] of cases) {
    it(`${name} (file)`, async () => {
      const dir = await tempDir()
      const path = join(dir, 'swarm.key')
      await writeFile(path, text, { mode: 0o600 })
      const e = await expectConfigError(readSwarmKeyFile(path), re)
      expect(e.message).toContain('trust.swarmKeyFile')
      expect(e.message).toContain(path)
      expect(e.message).not.toContain(hex.slice(0, 20))
    })
  }
  it('bad key in the environment names the variable, not its value', async () => {
    const e = await expectConfigError(loadSwarmKey({ env: { [SWARM_KEY_ENV]: `/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(4)}` } }), /PETALMESH_SECRET_SWARM_KEY \(from environment\): not a valid swarm key: line 3/)
    expect(e.message).not.toContain(hex.slice(4, 24))
  })
  it('missing file, directory, huge file', async () => {
    const dir = await tempDir()
    await expectConfigError(readSwarmKeyFile(join(dir, 'none.key')), /none\.key.*file does not exist.*petalmesh swarm-key --out/)
    await expectConfigError(readSwarmKeyFile(dir), /it is a directory/)
    const big = join(dir, 'big.key')
    await writeFile(big, 'x'.repeat(10_000))
    await expectConfigError(readSwarmKeyFile(big), /10000 bytes/)
  })
  it('errors are PetalmeshErrors with exit code 2', async () => {
    const err = await readSwarmKeyFile('/nonexistent/swarm.key').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PetalmeshError)
    expect((err as PetalmeshError).exitCode).toBe(2)
  })
})
