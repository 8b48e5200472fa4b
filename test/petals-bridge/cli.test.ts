import { existsSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { Command, CommanderError } from 'commander'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  petalsCommandDryRun,
  petalsDoctor,
  petalsGenerate,
  petalsParseLog,
  registerPetalsCommands
} from '../../src/cli/petals-commands.ts'
import type { PetalsCommandsDeps } from '../../src/cli/petals-commands.ts'
import { HUB, PYTHON, STANDIN, tempDir } from './helpers.ts'
import { ISSUE_326, REFERENCE_LIFECYCLE } from './real-logs.ts'

interface Captured { deps: PetalsCommandsDeps, out: () => string, err: () => string }

function capture (extra: Partial<PetalsCommandsDeps> = {}, env: Record<string, string> = {}, stdin?: string): Captured {
  let out = ''
  let err = ''
  return {
    deps: {
      ...extra,
      io: {
        stdout: { write: (t: string) => { out += t } },
        stderr: { write: (t: string) => { err += t } },
        stdin: Readable.from(stdin == null ? [] : [stdin]),
        env: { ...process.env, HF_HUB_CACHE: HUB, PYTHONPATH: STANDIN, ...env }
      }
    },
    out: () => out,
    err: () => err
  }
}

let dir: string
let cleanupDir: () => void
let peerServer: Server
let peer: string

beforeAll(async () => {
  ({ dir, cleanup: cleanupDir } = tempDir())
  peerServer = createServer((socket) => { socket.end() })
  await new Promise<void>((resolve) => peerServer.listen(0, '127.0.0.1', resolve))
  peer = `/ip4/127.0.0.1/tcp/${(peerServer.address() as { port: number }).port}/p2p/QmedTaZXmULqwspJXz44SsPZyTNKxhnnFvYRajfH7MGhCY`
})
afterAll(() => {
  peerServer.close()
  cleanupDir()
})
afterEach(() => { process.exitCode = undefined })

function configFile (name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('petalmesh petals command', () => {
  it('prints the exact argv and environment as JSON, without starting or writing anything', async () => {
    const config = configFile('node.yaml', `
dataDir: ${join(dir, 'node-data')}
petals:
  model: meta-llama/Meta-Llama-3.1-405B-Instruct
  port: 31337
  publicIp: 203.0.113.7
  token: { env: MY_HF_TOKEN }
`)
    const c = capture({}, { MY_HF_TOKEN: 'hf_SuperSecretToken0123456789' })
    const code = await petalsCommandDryRun({ config, span: { start: 10, end: 20 }, json: true, offline: true, initialPeers: [peer] }, c.deps)
    expect(c.err()).toBe('')
    expect(code).toBe(0)
    const result = JSON.parse(c.out())
    expect(result.argv.slice(0, 6)).toEqual(['python3', '-m', 'petals.cli.run_server', 'meta-llama/Meta-Llama-3.1-405B-Instruct', '--block_indices', '10:20'])
    expect(result.argv).toEqual(expect.arrayContaining(['--public_ip', '203.0.113.7', '--port', '31337', '--use_auth_token', '--initial_peers', peer]))
    expect(result.env).toMatchObject({ HIVEMIND_COLORS: '0', HF_TOKEN: '<redacted: from $MY_HF_TOKEN>' })
    expect(c.out()).not.toContain('SuperSecret')
    expect(result).toMatchObject({ cwd: join(dir, 'node-data', 'petals', 'run'), dhtPrefix: 'Meta-Llama-3-1-405B-Instruct-hf', peerId: null, model: { type: 'llama', blocks: 126 } })
    expect(existsSync(join(dir, 'node-data'))).toBe(false)
  })

  it('prints a shell command line by default, spanning the capacity when no span is given', async () => {
    const config = configFile('plain.yaml', 'model: bigscience/bloom-560m\nnumBlocks: 6\n')
    const c = capture()
    expect(await petalsCommandDryRun({ config, offline: true, dataDir: join(dir, 'd2') }, c.deps)).toBe(0)
    expect(c.out()).toMatch(/# bigscience\/bloom-560m: bloom, 24 blocks; span 0:6 \(no --span: the first 6 blocks \(capacity from numBlocks\)\)/)
    expect(c.out()).toMatch(/HIVEMIND_COLORS=0 PETALS_LOGGING=true PYTHONUNBUFFERED=1 python3 -m petals.cli.run_server bigscience\/bloom-560m --block_indices 0:6 --dht_prefix bigscience\/bloom-560m-petals .*--new_swarm\n/)
  })

  it.each([
    ['public IP with announce addresses', 'model: bigscience/bloom-560m\npublicIp: 203.0.113.7\nannounceMaddrs: [/ip4/203.0.113.7/tcp/31330]\n', /can't use --public_ip and --announce_maddrs[\s\S]*hint: /],
    ['unsupported model', 'model: mistralai/Mistral-7B-v0.1\n', /does not support model type "mistral"/],
    ['managed extra argument', 'model: bigscience/bloom-560m\nextraArgs: [--num_blocks, "4"]\n', /--num_blocks is managed by petalmesh/],
    ['schema violation', 'petals:\n  port: 0\n', /petals.port: /],
    ['span past the end', 'model: bigscience/bloom-560m\n', /past the model's last block/]
  ])('exits 2 with the reason: %s', async (name, text, message) => {
    const config = configFile(`bad-${name.replaceAll(' ', '-')}.yaml`, text)
    const c = capture()
    const span = name === 'span past the end' ? { start: 20, end: 30 } : { start: 0, end: 2 }
    expect(await petalsCommandDryRun({ config, offline: true, span }, c.deps)).toBe(2)
    expect(c.err()).toMatch(/^error: /)
    expect(c.err()).toMatch(message)
  })
})

describe('petalmesh petals parse-log', () => {
  it('prints one JSON event per line from a file', async () => {
    const file = configFile('petals.log', REFERENCE_LIFECYCLE)
    const c = capture()
    expect(await petalsParseLog(file, {}, c.deps)).toBe(0)
    const events = c.out().trim().split('\n').map((l) => JSON.parse(l))
    expect(events[0]).toMatchObject({ event: 'dht_ready', peerId: 'QmZijSrKQ7mjGY2Bxcbw941FnbwAytxzK8h8anhNtheRkN' })
    expect(events.map((e) => e.event)).toContain('online')
  })

  it('reads stdin with "-", and exits 2 for a missing file', async () => {
    const c = capture({}, {}, ISSUE_326)
    expect(await petalsParseLog('-', {}, c.deps)).toBe(0)
    expect(c.out().trim().split('\n').map((l) => JSON.parse(l).event)).toEqual(['version', 'swarm', 'dht_ready', 'joining', 'loading'])
    const missing = capture()
    expect(await petalsParseLog(join(dir, 'nope.log'), {}, missing.deps)).toBe(2)
    expect(missing.err()).toMatch(/does not exist/)
  })
})

describe('petalmesh doctor', () => {
  it('prints every check, and exits 1 when one fails', async () => {
    const ok = capture({}, { PETALS_STANDIN_GPUS: 'NVIDIA L4:24' })
    expect(await petalsDoctor({ python: PYTHON, model: 'bigscience/bloom-560m', offline: true }, ok.deps)).toBe(0)
    expect(ok.out()).toMatch(/✓ python[\s\S]*✓ petals[\s\S]*✓ gpu .*NVIDIA L4[\s\S]*✓ model .*bloom, 24 blocks[\s\S]*Ready to share this GPU/)
    const bad = capture({}, { PYTHONPATH: '' })
    expect(await petalsDoctor({ python: PYTHON, json: true }, bad.deps)).toBe(1)
    const report = JSON.parse(bad.out())
    expect(report.ok).toBe(false)
    expect(report.checks.find((c: { id: string }) => c.id === 'petals').fix).toMatch(/pip install/)
  })
})

describe('petalmesh generate', () => {
  it('streams the completion using the mesh\'s initial peers', async () => {
    const c = capture({ resolveInitialPeers: async () => [peer] })
    expect(await petalsGenerate('A cat', { model: 'bigscience/bloom-560m', python: PYTHON }, c.deps)).toBe(0)
    expect(c.out()).toBe(' sat on a mat.\n')
  })

  it('fails clearly without peers or without Petals', async () => {
    const none = capture()
    expect(await petalsGenerate('A cat', { model: 'bigscience/bloom-560m', python: PYTHON }, none.deps)).toBe(2)
    expect(none.err()).toMatch(/No online Petals server is known/)
    const noPetals = capture({}, { PYTHONPATH: '' })
    expect(await petalsGenerate('A cat', { model: 'bigscience/bloom-560m', python: PYTHON, initialPeers: [peer] }, noPetals.deps)).toBe(1)
    expect(noPetals.err()).toMatch(/Petals is not installed[\s\S]*hint: Install Petals/)
  })
})

describe('registerPetalsCommands', () => {
  function program (deps: PetalsCommandsDeps): Command {
    const p = new Command('petalmesh').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} })
    registerPetalsCommands(p, deps)
    return p
  }

  it('wires the commands and their flags', async () => {
    const c = capture()
    const file = configFile('wired.log', ISSUE_326)
    await program(c.deps).parseAsync(['petals', 'parse-log', file, '--stuck-after', '5'], { from: 'user' })
    expect(c.out().split('\n').filter(Boolean)).toHaveLength(5)
    const cmd = capture()
    await program(cmd.deps).parseAsync(['petals', 'command', '--model', 'bigscience/bloom-560m', '--span', '1:3', '--json', '--offline', '--data-dir', join(dir, 'd3')], { from: 'user' })
    expect(JSON.parse(cmd.out()).span).toEqual({ start: 1, end: 3 })
    expect(process.exitCode ?? 0).toBe(0)
    const names = program(c.deps).commands.map((x) => x.name())
    expect(names).toEqual(expect.arrayContaining(['petals', 'doctor', 'generate']))
  })

  it('rejects a malformed span with exit code 2', async () => {
    const c = capture()
    const err = await program(c.deps).parseAsync(['petals', 'command', '--span', '5-3'], { from: 'user' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CommanderError)
    expect((err as CommanderError).exitCode).toBe(2)
    expect((err as CommanderError).message).toMatch(/"5-3" is not a span: use start:end/)
  })

  it('sets exit code 2 when the dry run finds an invalid configuration', async () => {
    const config = configFile('invalid.yaml', 'model: bigscience/bloom-560m\ndhtPrefix: "a.b"\n')
    const c = capture()
    await program(c.deps).parseAsync(['petals', 'command', '--config', config, '--offline'], { from: 'user' })
    expect(process.exitCode).toBe(2)
    expect(c.err()).toMatch(/contains "\."/)
  })
})
