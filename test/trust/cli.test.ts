// `petalmesh swarm-key`, driven through commander in-process with stdout captured.
import { describe, it, expect, afterEach, vi } from 'vitest'
import { Command } from 'commander'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { registerTrustCommands } from '../../src/cli/trust-commands.ts'
import { readSwarmKeyFile } from '../../src/node/trust/swarm-key.ts'
import { UsageError } from '../../src/util/errors.ts'
import { tempDir, removeTempDirs } from './helpers.ts'

afterEach(async () => {
  vi.restoreAllMocks()
  await removeTempDirs()
})

const KEY_RE = /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/

/** Runs `petalmesh <args>` on a fresh program; returns what it wrote to stdout, or the error it threw. */
async function run (args: string[]): Promise<{ stdout: string, error?: unknown }> {
  const program = new Command('petalmesh').exitOverride()
  program.configureOutput({ writeOut: () => {}, writeErr: () => {} })
  registerTrustCommands(program)
  let stdout = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()
    return true
  })
  try {
    await program.parseAsync(['node', 'petalmesh', ...args])
    return { stdout }
  } catch (error) {
    return { stdout, error }
  } finally {
    vi.restoreAllMocks()
  }
}

describe('petalmesh swarm-key', () => {
  it('without --out prints a fresh key (and only the key) to stdout', async () => {
    const a = await run(['swarm-key'])
    const b = await run(['swarm-key'])
    expect(a.error).toBeUndefined()
    expect(a.stdout).toMatch(KEY_RE)
    expect(b.stdout).toMatch(KEY_RE)
    expect(a.stdout).not.toBe(b.stdout)
  })

  it('--out writes a 0600 file the loader accepts, and does not print the key', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    const r = await run(['swarm-key', '--out', path])
    expect(r.error).toBeUndefined()
    const text = await readFile(path, 'utf8')
    expect(text).toMatch(KEY_RE)
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const loaded = await readSwarmKeyFile(path)
    expect(loaded.warning).toBeUndefined()
    expect(r.stdout).toContain(`wrote a new swarm key to ${path}`)
    expect(r.stdout).toContain(loaded.fingerprint)
    expect(r.stdout).not.toContain(text.split('\n')[2])
  })

  it('refuses to overwrite an existing file unless --force', async () => {
    const dir = await tempDir()
    const path = join(dir, 'swarm.key')
    await writeFile(path, 'precious')
    const r = await run(['swarm-key', '-o', path])
    expect(r.error).toBeInstanceOf(UsageError)
    expect((r.error as UsageError).exitCode).toBe(2)
    expect((r.error as Error).message).toMatch(/already exists.*--force/)
    expect(await readFile(path, 'utf8')).toBe('precious')
    const forced = await run(['swarm-key', '-o', path, '--force'])
    expect(forced.error).toBeUndefined()
    expect(await readFile(path, 'utf8')).toMatch(KEY_RE)
  })

  it('takes no key argument and documents where the key goes', async () => {
    const r = await run(['swarm-key', 'deadbeef'])
    expect(r.error).toBeDefined()
    const program = new Command('petalmesh')
    registerTrustCommands(program)
    const help = program.commands.find(c => c.name() === 'swarm-key')?.helpInformation() ?? ''
    expect(help).toContain('--out <file>')
    expect(help).toContain('--force')
  })

  it('an injected writer receives the output instead of stdout', async () => {
    const out: string[] = []
    const program = new Command('petalmesh').exitOverride()
    registerTrustCommands(program, { write: s => { out.push(s) } })
    await program.parseAsync(['node', 'petalmesh', 'swarm-key'])
    expect(out.join('')).toMatch(KEY_RE)
  })
})
