// CLI commands of the Petals bridge: `petals command`, `petals parse-log`, `doctor`, `generate`.
// Each action is also exported as a function returning its exit code (0 ok, 1 failed, 2 invalid input).

import { createReadStream, existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { InvalidArgumentError } from 'commander'
import type { Command } from 'commander'
import type { Span } from '../protocols/types.ts'
import { buildServerCommand, shellQuote } from '../petals-bridge/command.ts'
import { parsePetalsConfig } from '../petals-bridge/config.ts'
import type { PetalsConfig } from '../petals-bridge/config.ts'
import { loadPetalsConfigFile } from '../petals-bridge/config-file.ts'
import { generate } from '../petals-bridge/client.ts'
import { PetalsBridgeError } from '../petals-bridge/errors.ts'
import { petalsMultiaddrs, readIdentity } from '../petals-bridge/identity.ts'
import { PetalsLogParser } from '../petals-bridge/log-events.ts'
import { nodeCapacity } from '../petals-bridge/memory.ts'
import { loadModelMetadata } from '../petals-bridge/model-metadata.ts'
import type { FetchLike } from '../petals-bridge/model-metadata.ts'
import { petalsPaths } from '../petals-bridge/petals-backend.ts'
import { formatPreflight, runPreflight } from '../petals-bridge/preflight.ts'
import { resolveToken } from '../petals-bridge/token.ts'
import { reachabilityDoctor } from './reachability-doctor.ts'

export interface CliIo {
  stdout: { write: (text: string) => unknown }
  stderr: { write: (text: string) => unknown }
  stdin: NodeJS.ReadableStream
  env: NodeJS.ProcessEnv
}

export interface PetalsCommandsDeps {
  /** Initial peers for `generate` when --initial-peers is not given: the mesh's online Petals servers for the model. */
  resolveInitialPeers?: (model: string) => Promise<string[]>
  /** Data directory when neither --data-dir nor the config file's `dataDir` says (default ".petalmesh"). */
  defaultDataDir?: string
  io?: Partial<CliIo>
  /** Used to fetch a model's config.json when it is not cached. */
  fetch?: FetchLike
}

function ioOf (deps: PetalsCommandsDeps): CliIo {
  return {
    stdout: deps.io?.stdout ?? process.stdout,
    stderr: deps.io?.stderr ?? process.stderr,
    stdin: deps.io?.stdin ?? process.stdin,
    env: deps.io?.env ?? process.env
  }
}

/** Report an error: message and hint on stderr. */
function report (io: CliIo, err: unknown): void {
  if (err instanceof PetalsBridgeError) {
    io.stderr.write(`error: ${err.message}\nhint: ${err.hint}\n`)
  } else {
    io.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`)
  }
}

/** An invalid-argument error that makes commander exit with code 2. */
function invalid (message: string): InvalidArgumentError {
  const err = new InvalidArgumentError(message)
  err.exitCode = 2
  return err
}

export function parseSpanArg (text: string): Span {
  const match = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(text)
  if (match == null) throw invalid(`"${text}" is not a span: use start:end, e.g. 0:18`)
  const span = { start: Number(match[1]), end: Number(match[2]) }
  if (span.end <= span.start) throw invalid(`span ${text} is empty: end must be greater than start`)
  return span
}

function loadConfig (configPath: string | undefined): { petals: PetalsConfig, dataDir: string | null, listen: string[] | null } {
  if (configPath == null) return { petals: parsePetalsConfig({}), dataDir: null, listen: null }
  const loaded = loadPetalsConfigFile(configPath)
  const dataDir = typeof loaded.raw.dataDir === 'string' ? loaded.raw.dataDir : null
  const listen = Array.isArray(loaded.raw.listen) ? loaded.raw.listen.filter((x): x is string => typeof x === 'string') : null
  return { petals: loaded.petals, dataDir, listen }
}

// --- petalmesh petals command ---

export interface CommandDryRunOptions {
  config?: string
  span?: Span
  model?: string
  initialPeers?: string[]
  dataDir?: string
  json?: boolean
  offline?: boolean
}

export async function petalsCommandDryRun (opts: CommandDryRunOptions, deps: PetalsCommandsDeps = {}): Promise<number> {
  const io = ioOf(deps)
  try {
    const loaded = loadConfig(opts.config)
    const config = opts.model != null ? { ...loaded.petals, model: opts.model } : loaded.petals
    const dataDir = opts.dataDir ?? loaded.dataDir ?? deps.defaultDataDir ?? '.petalmesh'
    const metadata = await loadModelMetadata(config.model, {
      revision: config.revision,
      cacheDirs: [config.cacheDir],
      env: io.env,
      allowDownload: opts.offline !== true,
      fetch: deps.fetch,
      token: config.token == null ? null : resolveToken(config.token, io.env)
    })
    const paths = petalsPaths(dataDir, config)
    const identity = await readIdentity(paths.identityPath)
    let span = opts.span
    let spanNote = 'from --span'
    if (span == null) {
      const capacity = nodeCapacity(metadata, config)
      const blocks = capacity.source === 'unknown' ? metadata.numBlocks : Math.max(1, capacity.blocks)
      span = { start: 0, end: blocks }
      spanNote = capacity.source === 'unknown' ? 'no --span: the whole model' : `no --span: the first ${blocks} blocks (capacity from ${capacity.source})`
    }
    const command = buildServerCommand({
      config,
      metadata,
      span,
      initialPeers: opts.initialPeers ?? [],
      identityPath: paths.identityPath,
      ownPeerId: identity?.peerId ?? null,
      workDir: paths.workDir,
      env: io.env
    })
    const argv = [command.command, ...command.args]
    const multiaddrs = identity == null
      ? []
      : petalsMultiaddrs({ peerId: identity.peerId, port: config.port, publicIp: config.publicIp, announceMaddrs: config.announceMaddrs })
    if (opts.json === true) {
      io.stdout.write(JSON.stringify({
        argv,
        command: command.command,
        args: command.args,
        env: command.redactedEnv,
        cwd: command.cwd,
        span: command.span,
        spanSource: spanNote,
        dhtPrefix: command.dhtPrefix,
        initialPeers: command.initialPeers,
        model: { name: metadata.model, type: metadata.modelType, blocks: metadata.numBlocks, configPath: metadata.configPath, source: metadata.source },
        identityPath: paths.identityPath,
        peerId: identity?.peerId ?? null,
        multiaddrs
      }, null, 2) + '\n')
    } else {
      const env = Object.entries(command.redactedEnv).map(([k, v]) => `${k}=${shellQuote([v])}`)
      io.stdout.write([
        `# ${metadata.model}: ${metadata.modelType}, ${metadata.numBlocks} blocks; span ${span.start}:${span.end} (${spanNote})`,
        `# peer id: ${identity?.peerId ?? `(generated at first start into ${paths.identityPath})`}`,
        `# runs from ${command.cwd} (emptied before each launch)`,
        `${env.join(' ')} ${shellQuote(argv)}`,
        ''
      ].join('\n'))
    }
    return 0
  } catch (err) {
    report(io, err)
    return 2
  }
}

// --- petalmesh petals parse-log ---

export async function petalsParseLog (file: string, opts: { stuckAfter?: number }, deps: PetalsCommandsDeps = {}): Promise<number> {
  const io = ioOf(deps)
  if (file !== '-' && !existsSync(file)) {
    io.stderr.write(`error: ${file} does not exist\nhint: give the path of a Petals log (e.g. <data dir>/petals/logs/petals.log) or - for stdin\n`)
    return 2
  }
  const input = file === '-' ? io.stdin : createReadStream(file)
  const parser = new PetalsLogParser({ stuckDownloadRetries: opts.stuckAfter })
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
  try {
    for await (const line of lines) {
      for (const part of line.split('\r')) {
        for (const event of parser.push(part)) io.stdout.write(JSON.stringify(event) + '\n')
      }
    }
  } catch (err) {
    report(io, err)
    return 2
  }
  return 0
}

// --- petalmesh doctor ---

export interface DoctorOptions {
  config?: string
  python?: string
  model?: string
  json?: boolean
  offline?: boolean
  dataDir?: string
  api?: string
}

export async function petalsDoctor (opts: DoctorOptions, deps: PetalsCommandsDeps = {}): Promise<number> {
  const io = ioOf(deps)
  let config: PetalsConfig
  let loaded: ReturnType<typeof loadConfig>
  try {
    loaded = loadConfig(opts.config)
    config = loaded.petals
  } catch (err) {
    report(io, err)
    return 2
  }
  if (opts.python != null) config = { ...config, python: opts.python }
  if (opts.model != null) config = { ...config, model: opts.model }
  let token: string | null = null
  try {
    token = resolveToken(config.token, io.env)
  } catch (err) {
    report(io, err)
  }
  const result = await runPreflight({ config, env: io.env, allowDownload: opts.offline !== true, fetch: deps.fetch, token })
  const reach = await reachabilityDoctor({ api: opts.api, dataDir: opts.dataDir ?? loaded.dataDir, env: io.env, listen: loaded.listen, petalsPort: config.port })
  if (opts.json === true) {
    io.stdout.write(JSON.stringify({ ok: result.ok, checks: result.checks, pythonVersion: result.pythonVersion, petalsVersion: result.petalsVersion, gpus: result.gpus, reachability: { ok: reach.ok, status: reach.status, forwardPorts: reach.forwardPorts, report: reach.lines } }, null, 2) + '\n')
  } else {
    io.stdout.write(formatPreflight(result) + '\n')
    io.stdout.write(reach.lines.join('\n') + '\n')
  }
  return result.ok ? 0 : 1
}

// --- petalmesh generate ---

export interface GenerateCliOptions {
  model?: string
  config?: string
  initialPeers?: string[]
  dhtPrefix?: string
  maxNewTokens?: number
  temperature?: number
  python?: string
}

export async function petalsGenerate (prompt: string, opts: GenerateCliOptions, deps: PetalsCommandsDeps = {}): Promise<number> {
  const io = ioOf(deps)
  let config: PetalsConfig
  try {
    config = loadConfig(opts.config).petals
  } catch (err) {
    report(io, err)
    return 2
  }
  const model = opts.model ?? config.model
  if (model === '') {
    io.stderr.write('error: no model given\nhint: pass --model (a Hugging Face repo id or a local directory)\n')
    return 2
  }
  try {
    const initialPeers = opts.initialPeers ?? (deps.resolveInitialPeers != null ? await deps.resolveInitialPeers(model) : [])
    const stream = generate({
      python: opts.python ?? config.python,
      model,
      prompt,
      initialPeers,
      dhtPrefix: opts.dhtPrefix ?? (model === config.model ? config.dhtPrefix : null),
      maxNewTokens: opts.maxNewTokens,
      temperature: opts.temperature,
      token: resolveToken(config.token, io.env),
      env: io.env
    })
    for await (const text of stream) io.stdout.write(text)
    io.stdout.write('\n')
    return 0
  } catch (err) {
    report(io, err)
    return err instanceof PetalsBridgeError && ['no-peers', 'invalid-arguments'].includes((err as { kind?: string }).kind ?? '') ? 2 : 1
  }
}

// --- registration ---

function positiveInt (value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw invalid('must be a positive integer')
  return n
}

function nonNegative (value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw invalid('must be a number >= 0')
  return n
}

/** Add `petals command`, `petals parse-log`, `doctor` and `generate` to the petalmesh CLI. */
export function registerPetalsCommands (program: Command, deps: PetalsCommandsDeps = {}): void {
  const done = (code: number): void => { if (code !== 0) process.exitCode = code }
  const petals = program.command('petals').description('Inspect what petalmesh does with the local Petals server')

  petals.command('command')
    .description('Print the exact Petals command (argv, environment, working directory) this node would launch, without starting anything')
    .option('--config <file>', 'node configuration file (YAML or JSON; Petals settings under "petals")')
    .option('--span <start:end>', 'blocks to serve, half-open (default: the first blocks that fit)', parseSpanArg)
    .option('--model <model>', 'override petals.model')
    .option('--initial-peers <maddrs...>', 'hivemind multiaddrs of online Petals servers (default: none, i.e. --new_swarm)')
    .option('--data-dir <dir>', 'node data directory (identity file, working directory)')
    .option('--offline', 'do not fetch config.json from the Hugging Face Hub')
    .option('--json', 'print JSON')
    .action(async (opts: CommandDryRunOptions) => { done(await petalsCommandDryRun(opts, deps)) })

  petals.command('parse-log')
    .description('Print the lifecycle events derived from a Petals log, one JSON object per line')
    .argument('<file>', 'Petals log file, or - for stdin')
    .option('--stuck-after <n>', 'consecutive "Failed to load file" lines that mean a stuck download', positiveInt, 3)
    .action(async (file: string, opts: { stuckAfter?: number }) => { done(await petalsParseLog(file, opts, deps)) })

  program.command('doctor')
    .description('Check that this machine can share its GPU through Petals: Python, Petals, GPU, model; and how peers reach the running node (which port to forward)')
    .option('--config <file>', 'node configuration file (YAML or JSON)')
    .option('--python <path>', 'override petals.python')
    .option('--model <model>', 'override petals.model')
    .option('--offline', 'do not fetch config.json from the Hugging Face Hub')
    .option('--data-dir <dir>', 'data directory of the running node to ask about reachability (default: the config\'s dataDir or ~/.petalmesh)')
    .option('--api <url>', 'API URL of the running node (default: from <data dir>/api.json)')
    .option('--json', 'print JSON')
    .action(async (opts: DoctorOptions) => { done(await petalsDoctor(opts, deps)) })

  program.command('generate')
    .description('Generate text with the model served by the mesh, through Petals\' Python client')
    .argument('<prompt>', 'text to continue')
    .option('--model <model>', 'model (default: petals.model)')
    .option('--config <file>', 'node configuration file (YAML or JSON)')
    .option('--initial-peers <maddrs...>', 'hivemind multiaddrs of Petals servers (default: from the mesh)')
    .option('--dht-prefix <prefix>', 'DHT prefix of the servers (needed for a local model directory)')
    .option('--max-new-tokens <n>', 'tokens to generate', positiveInt, 64)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', nonNegative, 0)
    .option('--python <path>', 'Python with Petals installed (default: petals.python)')
    .action(async (prompt: string, opts: GenerateCliOptions) => { done(await petalsGenerate(prompt, opts, deps)) })
}
