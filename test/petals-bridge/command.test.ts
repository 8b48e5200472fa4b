// The command builder against a table of configurations. Every argv it produces is run through the
// stand-in's copy of run_server's parser and post-parse checks (same argparse groups and assertions as
// Petals); every forbidden combination is refused by petalmesh before anything is launched.

import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  buildServerCommand,
  InvalidPetalsCommandError,
  loadModelMetadata,
  parsePetalsConfig,
  TokenError
} from '../../src/petals-bridge/index.ts'
import type { BuildCommandInput, ModelMetadata, PetalsConfigInput } from '../../src/petals-bridge/index.ts'
import { HUB, PYTHON, STANDIN, TINY_LLAMA_DIR, tempDir } from './helpers.ts'

interface ParserVerdict { ok: boolean, exit?: number, error?: string }

/** Run argvs (after `-m petals.cli.run_server`) through the stand-in's run_server parser, in one Python process. */
function realParser (argvs: string[][]): ParserVerdict[] {
  const out = execFileSync(PYTHON, ['-m', 'petals._standin.check_args'], {
    input: JSON.stringify(argvs),
    env: { ...process.env, PYTHONPATH: STANDIN },
    cwd: '/',
    encoding: 'utf8'
  })
  return JSON.parse(out) as ParserVerdict[]
}

const PEER_A = '/ip4/10.0.0.2/tcp/31330/p2p/QmedTaZXmULqwspJXz44SsPZyTNKxhnnFvYRajfH7MGhCY'
const PEER_B = '/ip4/10.0.0.3/tcp/31331/p2p/QmQGTqmM7NKjV6ggU1ZCap8zWiyKR89RViDXiqehSiCpY5'
const SELF = 'QmZijSrKQ7mjGY2Bxcbw941FnbwAytxzK8h8anhNtheRkN'
const offline = { env: { HF_HUB_CACHE: HUB }, homeDir: '/nonexistent-home' }

let llama: ModelMetadata
let bloom: ModelMetadata
let mixtral: ModelMetadata
let falcon: ModelMetadata
let local: ModelMetadata
let tokenFile: string

beforeAll(async () => {
  llama = await loadModelMetadata('meta-llama/Meta-Llama-3.1-405B-Instruct', offline)
  bloom = await loadModelMetadata('bigscience/bloom-petals', offline)
  mixtral = await loadModelMetadata('mistralai/Mixtral-8x22B-Instruct-v0.1', offline)
  falcon = await loadModelMetadata('tiiuae/falcon-40b', offline)
  local = await loadModelMetadata(TINY_LLAMA_DIR, offline)
  const { dir } = tempDir()
  tokenFile = join(dir, 'hf-token')
  writeFileSync(tokenFile, 'hf_TestTokenValue0123456789\n')
})

function build (config: PetalsConfigInput, meta: ModelMetadata, extra: Partial<BuildCommandInput> = {}): ReturnType<typeof buildServerCommand> {
  return buildServerCommand({
    config: parsePetalsConfig({ model: meta.model, ...config }),
    metadata: meta,
    span: { start: 0, end: 4 },
    initialPeers: [],
    identityPath: '/var/lib/petalmesh/petals/identity.key',
    ownPeerId: SELF,
    workDir: '/var/lib/petalmesh/petals/run',
    env: { MY_HF_TOKEN: 'hf_FromTheEnvironment0123456789' },
    ...extra
  })
}

describe('valid configurations produce argvs Petals accepts', () => {
  const table: Array<[string, () => ReturnType<typeof buildServerCommand>]> = [
    ['minimal, first server of the swarm', () => build({}, llama)],
    ['joining online servers (self and duplicates dropped)', () => build({}, llama, { initialPeers: [PEER_A, PEER_B, PEER_A, `/ip4/10.0.0.9/tcp/1/p2p/${SELF}`] })],
    ['public IP', () => build({ publicIp: '203.0.113.7', port: 31337 }, llama)],
    ['announce multiaddrs', () => build({ announceMaddrs: ['/ip4/198.51.100.1/tcp/4000', '/dns4/gpu.example.org/tcp/4000'] }, llama)],
    ['local directory with a prefix', () => build({ model: TINY_LLAMA_DIR, dhtPrefix: 'tiny-llama-hf' }, local)],
    ['everything set', () => build({
      publicName: 'My GPU box (RTX 4090)',
      torchDtype: 'float16',
      quantType: 'int8',
      throughput: 1234.5,
      cacheDir: 'relative/cache',
      maxDiskSpace: '100 GB',
      revision: 'main',
      adapters: ['timdettmers/guanaco-65b', 'artek0chumak/guanaco-7b'],
      token: { file: tokenFile },
      cudaVisibleDevices: '1',
      extraArgs: ['--max_batch_size', '4096', '--no_auto_relay', '--compression', 'FLOAT16', '--update_period=60', '--tensor_parallel_devices', 'cuda:0', 'cuda:1']
    }, llama, { initialPeers: [PEER_A] })],
    ['throughput eval, nf4, bfloat16, token from env', () => build({ throughput: 'eval', quantType: 'nf4', torchDtype: 'bfloat16', token: { env: 'MY_HF_TOKEN' } }, llama)],
    ['bloom, legacy -petals name', () => build({}, bloom, { span: { start: 60, end: 70 } })],
    ['mixtral', () => build({ quantType: 'none' }, mixtral, { span: { start: 0, end: 56 } })],
    ['falcon with a custom prefix', () => build({ dhtPrefix: '_private/falcon-40b' }, falcon)],
    ['reachability: directly reachable at a public IPv4 (--public_ip)', () => build({}, llama, { reachability: { reachability: 'direct', publicIp: '203.0.113.9' } })],
    ['reachability: directly reachable at a public IPv6 (--announce_maddrs)', () => build({}, llama, { reachability: { reachability: 'direct', publicIp: '2001:db8::9' } })],
    ['reachability: relayed leaves Petals\' relays on', () => build({}, llama, { reachability: { reachability: 'relayed', publicIp: null } })]
  ]

  it('passes the real parser and checks for every row', () => {
    const commands = table.map(([, make]) => make())
    const verdicts = realParser(commands.map((c) => c.args.slice(2)))
    verdicts.forEach((v, i) => { expect(v, table[i][0]).toEqual({ ok: true }) })
  })

  it('passes Petals the public IP the node is reachable at, unless petals.publicIp/announceMaddrs say otherwise', () => {
    const direct = build({}, llama, { reachability: { reachability: 'direct', publicIp: '203.0.113.9' } })
    expect(direct.args.slice(direct.args.indexOf('--public_ip'), direct.args.indexOf('--public_ip') + 2)).toEqual(['--public_ip', '203.0.113.9'])
    expect(direct.networkReason).toContain('203.0.113.9')
    const configured = build({ publicIp: '198.51.100.1', port: 31337 }, llama, { reachability: { reachability: 'direct', publicIp: '203.0.113.9' } })
    expect(configured.args.filter(a => a === '--public_ip')).toHaveLength(1)
    expect(configured.args).toContain('198.51.100.1')
    expect(build({}, llama, { reachability: { reachability: 'relayed', publicIp: null } }).args).not.toContain('--no_auto_relay')
  })

  it('pins the span, names the model first and uses --new_swarm only without peers', () => {
    const first = build({}, llama)
    expect(first.command).toBe('python3')
    expect(first.args.slice(0, 5)).toEqual(['-m', 'petals.cli.run_server', 'meta-llama/Meta-Llama-3.1-405B-Instruct', '--block_indices', '0:4'])
    expect(first.args).toContain('--new_swarm')
    expect(first.args).not.toContain('--initial_peers')
    expect(first.args).not.toContain('--num_blocks')
    expect(first.args).toEqual(expect.arrayContaining(['--dht_prefix', 'Meta-Llama-3-1-405B-Instruct-hf', '--port', '31330', '--identity_path', '/var/lib/petalmesh/petals/identity.key']))
    const joining = build({}, llama, { initialPeers: [PEER_A, PEER_B, PEER_A, `/ip4/10.0.0.9/tcp/1/p2p/${SELF}`] })
    expect(joining.args.slice(joining.args.indexOf('--initial_peers'))).toEqual(['--initial_peers', PEER_A, PEER_B])
    expect(joining.args).not.toContain('--new_swarm')
    // Only our own (stale) record known: start a new swarm rather than bootstrap from ourselves.
    expect(build({}, llama, { initialPeers: [`/ip4/10.0.0.9/tcp/1/p2p/${SELF}`] }).args).toContain('--new_swarm')
  })

  it('sets the environment: no colours, cache, GPU selection, token only through the environment', () => {
    const cmd = table[5][1]()
    expect(cmd.cwd).toBe('/var/lib/petalmesh/petals/run')
    expect(cmd.env).toMatchObject({
      HIVEMIND_COLORS: '0',
      PETALS_CACHE: resolve('relative/cache'),
      CUDA_VISIBLE_DEVICES: '1',
      HF_TOKEN: 'hf_TestTokenValue0123456789'
    })
    expect(cmd.args).toEqual(expect.arrayContaining(['--cache_dir', resolve('relative/cache'), '--max_disk_space', '100GB', '--use_auth_token', '--public_name', 'My GPU box (RTX 4090)']))
    expect(cmd.args.join(' ')).not.toContain('hf_TestTokenValue')
    expect(cmd.args).not.toContain('--token')
    expect(cmd.redactedEnv.HF_TOKEN).toBe(`<redacted: from file ${tokenFile}>`)
    expect(JSON.stringify(cmd.redactedEnv)).not.toContain('hf_TestTokenValue')
    expect(table[6][1]().env.HF_TOKEN).toBe('hf_FromTheEnvironment0123456789')
  })

  it('holds for any combination of valid settings (property test, checked by the real parser)', () => {
    const configArb = fc.record({
      publicIp: fc.option(fc.ipV4(), { nil: null }),
      port: fc.integer({ min: 1, max: 65535 }),
      publicName: fc.option(fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.startsWith('-')), { nil: null }),
      torchDtype: fc.constantFrom('auto', 'bfloat16', 'float16', 'float32'),
      quantType: fc.constantFrom('auto', 'none', 'int8', 'nf4'),
      throughput: fc.oneof(fc.constantFrom('auto', 'eval'), fc.double({ min: 0, max: 1e6, noNaN: true })),
      maxDiskSpace: fc.option(fc.constantFrom('50GB', '100GiB', '1.5 GB', '1500MB', '1572864000'), { nil: null }),
      adapters: fc.array(fc.constantFrom('timdettmers/guanaco-65b', 'org/lora-a', 'org/lora_b'), { maxLength: 3 }),
      token: fc.option(fc.constant({ env: 'MY_HF_TOKEN' }), { nil: null }),
      extraArgs: fc.subarray([['--max_batch_size', '2048'], ['--no_auto_relay'], ['--num_handlers', '4'], ['--skip_reachability_check'], ['--balance_quality', '0.0']]).map((groups) => groups.flat())
    }, { requiredKeys: [] }) as fc.Arbitrary<PetalsConfigInput>
    const peersArb = fc.subarray([PEER_A, PEER_B])
    const spanArb = fc.integer({ min: 0, max: 125 }).chain((start) => fc.integer({ min: start + 1, max: 126 }).map((end) => ({ start, end })))
    const samples = fc.sample(fc.tuple(configArb, peersArb, spanArb), { numRuns: 120, seed: 42 })
    const commands = samples.map(([config, peers, span]) => build(config, llama, { initialPeers: peers, span }))
    const verdicts = realParser(commands.map((c) => c.args.slice(2)))
    verdicts.forEach((v, i) => { expect(v, JSON.stringify(samples[i])).toEqual({ ok: true }) })
  })
})

describe('forbidden combinations are refused before launch', () => {
  const refused: Array<[string, () => unknown, string, RegExp]> = [
    ['public IP and announce multiaddrs', () => build({ publicIp: '203.0.113.7', announceMaddrs: ['/ip4/203.0.113.7/tcp/31330'] }, llama), 'publicIp', /can't use --public_ip and --announce_maddrs/],
    ['announce multiaddr without a fixed port', () => build({ announceMaddrs: ['/ip4/203.0.113.7/tcp/0'] }, llama), 'announceMaddrs', /port 0 is not supported/],
    ['announce multiaddr without a TCP port', () => build({ announceMaddrs: ['/ip4/203.0.113.7'] }, llama), 'announceMaddrs', /no fixed TCP port/],
    ['announce multiaddr with a peer ID', () => build({ announceMaddrs: [`/ip4/203.0.113.7/tcp/1/p2p/${SELF}`] }, llama), 'announceMaddrs', /must not end in \/p2p/],
    ['malformed announce multiaddr', () => build({ announceMaddrs: ['203.0.113.7:31330'] }, llama), 'announceMaddrs', /not a valid multiaddr/],
    ['prefix with a dot', () => build({ dhtPrefix: 'llama-3.1' }, llama), 'dhtPrefix', /contains "\."/],
    ['prefix with a space', () => build({ dhtPrefix: 'my llama' }, llama), 'dhtPrefix', /contains a space/],
    ['local directory without a prefix', () => build({ model: TINY_LLAMA_DIR }, local), 'dhtPrefix', /local directory/],
    ['--num_blocks with the pinned span', () => build({ extraArgs: ['--num_blocks', '3'] }, llama), 'extraArgs', /--num_blocks is managed by petalmesh/],
    ['abbreviated managed option', () => build({ extraArgs: ['--num_b', '3'] }, llama), 'extraArgs', /--num_b is not a run_server option/],
    ['--host_maddrs with the fixed port', () => build({ extraArgs: ['--host_maddrs', '/ip4/0.0.0.0/tcp/1'] }, llama), 'extraArgs', /Petals refuses --host_maddrs together with --port/],
    ['token on the command line', () => build({ extraArgs: ['--token', 'hf_x'] }, llama), 'extraArgs', /secrets are passed through the environment/],
    ['own initial peers', () => build({ extraArgs: ['--initial_peers', PEER_A] }, llama), 'extraArgs', /--initial_peers is managed/],
    ['--new_swarm', () => build({ extraArgs: ['--new_swarm'] }, llama), 'extraArgs', /--new_swarm is managed/],
    ['a config file', () => build({ extraArgs: ['-c', 'other.yml'] }, llama), 'extraArgs', /-c is managed by petalmesh: petalmesh runs Petals from a clean directory/],
    ['unknown option', () => build({ extraArgs: ['--turbo'] }, llama), 'extraArgs', /--turbo is not a run_server option/],
    ['stray positional', () => build({ extraArgs: ['other/model'] }, llama), 'extraArgs', /is not an option/],
    ['flag with a value', () => build({ extraArgs: ['--no_auto_relay', 'yes'] }, llama), 'extraArgs', /is not an option/],
    ['option without its value', () => build({ extraArgs: ['--max_batch_size'] }, llama), 'extraArgs', /needs a value/],
    ['bad compression', () => build({ extraArgs: ['--compression', 'zip'] }, llama), 'extraArgs', /must be one of NONE/],
    ['span past the last block', () => build({}, llama, { span: { start: 120, end: 127 } }), 'span', /126 blocks/],
    ['empty span', () => build({}, llama, { span: { start: 3, end: 3 } }), 'span', /0 <= start < end/],
    ['negative span', () => build({}, llama, { span: { start: -1, end: 3 } }), 'span', /0 <= start < end/],
    ['initial peer without a peer ID', () => build({}, llama, { initialPeers: ['/ip4/10.0.0.2/tcp/31330'] }), 'initialPeers', /ending in \/p2p/],
    ['no model', () => build({ model: '' }, llama), 'model', /No model configured/],
    ['adapter that looks like an option', () => build({ adapters: ['--evil'] }, llama), 'adapters', /would be read as an option/],
    ['bad CUDA_VISIBLE_DEVICES', () => build({ cudaVisibleDevices: '0; rm -rf /' }, llama), 'cudaVisibleDevices', /not a device list/]
  ]

  it.each(refused)('%s', (_name, make, field, message) => {
    let error: unknown
    try {
      make()
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(InvalidPetalsCommandError)
    expect((error as InvalidPetalsCommandError).field).toBe(field)
    expect((error as Error).message).toMatch(message)
    expect((error as InvalidPetalsCommandError).hint.length).toBeGreaterThan(10)
  })

  it('refuses a token source that cannot be read', () => {
    expect(() => build({ token: { env: 'UNSET_TOKEN_VAR' } }, llama)).toThrow(TokenError)
    expect(() => build({ token: { file: '/nonexistent/token' } }, llama)).toThrow(/Cannot read the Hugging Face token file/)
    // ...but a dry run may skip reading it
    expect(build({ token: { env: 'UNSET_TOKEN_VAR' } }, llama, { skipTokenResolution: true }).redactedEnv.HF_TOKEN).toBe('<redacted: from $UNSET_TOKEN_VAR>')
  })

  it('matches what Petals itself rejects for the same settings', () => {
    const verdicts = realParser([
      ['m', '--public_ip', '203.0.113.7', '--announce_maddrs', '/ip4/203.0.113.7/tcp/31330', '--port', '1'],
      ['m', '--announce_maddrs', '/ip4/203.0.113.7/tcp/0'],
      ['m', '--dht_prefix', 'llama-3.1'],
      ['m', '--block_indices', '0:4', '--num_blocks', '3'],
      ['m', '--port', '1', '--host_maddrs', '/ip4/0.0.0.0/tcp/1'],
      ['m', '--token', 'x', '--use_auth_token'],
      ['m', '--initial_peers', PEER_A, '--new_swarm'],
      ['m', '--initial_peers'],
      ['m', '--public_ip', '203.0.113.7'],
      ['m', '--compression', 'zip']
    ])
    expect(verdicts.map((v) => v.ok)).toEqual(Array(10).fill(false))
    expect(verdicts[0].error).toMatch(/You can't use --public_ip and --announce_maddrs/)
    expect(verdicts[2].error).toMatch(/DHT prefix should not contain/)
    expect(verdicts[3].error).toMatch(/Please specify num_blocks or block_indices, not both/)
    expect(verdicts[5].exit).toBe(2)
    expect(verdicts[6].error).toMatch(/--new_swarm: not allowed with argument --initial_peers/)
    expect(verdicts[8].error).toMatch(/fixed non-zero --port/)
  })
})
