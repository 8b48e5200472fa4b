// The `petalmesh` command line. Each command is a thin layer over library functions.
import { Command, CommanderError, Option } from 'commander'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { homedir } from 'node:os'
import { loadConfig, describeEffective, describeConfigKeys, setFlagsLayer, type ConfigSource, type LoadedConfig } from '../node/config.ts'
import { generateIdentity } from '../node/identity.ts'
import { createLogger } from '../node/logger.ts'
import { startNode, type PetalmeshNode } from '../node/daemon.ts'
import { LogRing } from '../node/api/logs.ts'
import { PetalmeshError, UsageError, errorMessage } from '../util/errors.ts'
import { registerExtraCommands } from './extra-commands.ts'

function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/** Options that feed the config's flag layer; shared by `start`, `config print` and the client commands. */
export function addConfigOptions (cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (JSON or YAML)')
    .option('-d, --data-dir <dir>', 'data directory (identity, logs)')
    .option('-l, --listen <multiaddr>', 'listen address (repeatable)', collect)
    .option('-b, --bootstrap <multiaddr>', 'bootstrap peer /ip4/HOST/tcp/PORT/p2p/ID (repeatable)', collect)
    .option('-m, --model <id>', 'swarm id (Petals dht_prefix)')
    .option('--blocks <n>', 'number of blocks of the model')
    .option('--span <start:end>', 'serve exactly these blocks instead of negotiating')
    .addOption(new Option('--role <role>', 'server or client').choices(['server', 'client']))
    .option('--api-port <port>', 'HTTP API port (0 = any free port)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error']))
    .addOption(new Option('--log-format <format>', 'log format').choices(['auto', 'pretty', 'json']))
    .option('--set <key=value>', 'set any config key, e.g. --set network.maxConnections=200 (repeatable)', collect)
}

interface ConfigFlags {
  config?: string
  dataDir?: string
  listen?: string[]
  bootstrap?: string[]
  model?: string
  blocks?: string
  span?: string
  role?: string
  apiPort?: string
  logLevel?: string
  logFormat?: string
  set?: string[]
}

function numberFlag (name: string, v: string | undefined): number | string | undefined {
  if (v == null) return undefined
  return /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v
}

export async function configFromFlags (f: ConfigFlags): Promise<LoadedConfig> {
  const flags: Record<string, unknown> = setFlagsLayer(f.set ?? [])
  const sources: Record<string, ConfigSource> = {}
  const put = (path: string[], value: unknown, flag: string): void => {
    if (value === undefined) return
    let cur = flags
    for (const p of path.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>
    cur[path[path.length - 1]] = value
    sources[path.join('.')] = `flag:${flag}`
  }
  put(['dataDir'], f.dataDir, '--data-dir')
  put(['listen'], f.listen, '--listen')
  put(['bootstrap'], f.bootstrap, '--bootstrap')
  put(['swarm', 'model'], f.model, '--model')
  put(['swarm', 'totalBlocks'], numberFlag('--blocks', f.blocks), '--blocks')
  put(['swarm', 'span'], f.span, '--span')
  put(['swarm', 'role'], f.role, '--role')
  put(['api', 'port'], numberFlag('--api-port', f.apiPort), '--api-port')
  put(['log', 'level'], f.logLevel, '--log-level')
  put(['log', 'format'], f.logFormat, '--log-format')
  return await loadConfig({ configFile: f.config ?? null, flags, flagSources: sources })
}

async function apiUrl (opts: { api?: string, dataDir?: string }): Promise<string> {
  if (opts.api != null) return opts.api.endsWith('/') ? opts.api : opts.api + '/'
  const dataDir = opts.dataDir ?? process.env.PETALMESH_DATA_DIR ?? join(homedir(), '.petalmesh')
  try {
    const info = JSON.parse(await readFile(join(dataDir, 'api.json'), 'utf8')) as { url: string }
    return info.url
  } catch {
    throw new PetalmeshError(`no running node found for data dir ${dataDir} (no api.json). Start one with \`petalmesh start\`, or pass --api http://127.0.0.1:PORT/`, { exitCode: 3 })
  }
}

async function callApi (base: string, path: string, init?: RequestInit): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(5000) })
  } catch (err) {
    throw new PetalmeshError(`cannot reach the node's API at ${base}: ${errorMessage(err)}. Is the node running?`, { exitCode: 3 })
  }
  const body = await res.json() as Record<string, unknown>
  if (!res.ok) throw new PetalmeshError(`API error ${res.status}: ${String(body.error)}`)
  return body
}

export function buildProgram (): Command {
  // exitOverride before any subcommand exists: commander copies it to subcommands when they are created.
  const program = new Command('petalmesh')
    .exitOverride()
    .description('petalmesh: a peer-to-peer control plane for Petals swarms (no coordinator)')
    .version('0.1.0')
    .showHelpAfterError()

  addConfigOptions(program.command('start').description('run the node daemon in the foreground (Ctrl-C / SIGTERM stop it gracefully)'))
    .action(async (f: ConfigFlags) => {
      const { config } = await configFromFlags(f)
      const logRing = new LogRing()
      const log = createLogger({ level: config.log.level, format: config.log.format, extraStream: logRing.pinoStream() })
      // Signals are handled from the first moment: one arriving during start-up stops the node as
      // soon as it exists, still gracefully.
      let node: PetalmeshNode | null = null
      let stopRequested = false
      const startAbort = new AbortController()
      let signals = 0
      const onSignal = (sig: string): void => {
        signals++
        if (signals > 1) { log.warn('second signal: exiting now'); process.exit(130) }
        log.info({ signal: sig }, 'shutting down')
        stopRequested = true
        startAbort.abort()
        // Operators expect a stop within seconds; never hang on a stuck peer.
        const force = setTimeout(() => { log.error('graceful stop took over 5 s: exiting'); process.exit(1) }, 5000)
        force.unref()
        if (node != null) void node.stop()
      }
      process.on('SIGINT', () => { onSignal('SIGINT') })
      process.on('SIGTERM', () => { onSignal('SIGTERM') })
      node = await startNode({ config, log, logRing, signal: startAbort.signal })
      if (stopRequested) void node.stop()
      await node.stopped
    })

  program.command('keygen')
    .description('print a new Ed25519 node identity (peer id and base64 libp2p private key)')
    .option('--json', 'print as JSON')
    .action(async (o: { json?: boolean }) => {
      const id = await generateIdentity()
      if (o.json === true) console.log(JSON.stringify(id))
      else console.log(`peer id:     ${id.peerId}\nprivate key: ${id.privateKeyBase64}\n(save the key's bytes, base64-decoded, as <data dir>/identity.key with mode 0600 to use it)`)
    })

  const cfg = program.command('config').description('inspect configuration')
  addConfigOptions(cfg.command('print').description('print the effective config and where each value came from'))
    .option('--json', 'print as JSON')
    .action(async (f: ConfigFlags & { json?: boolean }) => {
      const loaded = await configFromFlags(f)
      const rows = describeEffective(loaded)
      if (f.json === true) {
        console.log(JSON.stringify({ config: loaded.config, sources: Object.fromEntries(rows.map(r => [r.key, r.source])) }, null, 2))
        return
      }
      const width = Math.max(...rows.map(r => r.key.length))
      for (const r of rows) console.log(`${r.key.padEnd(width)}  ${JSON.stringify(r.value) ?? '(unset)'}  [${r.source}]`)
    })
  cfg.command('keys').description('list every config key with its environment variable, default and meaning')
    .option('--markdown', 'print a Markdown table')
    .action((o: { markdown?: boolean }) => {
      const keys = describeConfigKeys()
      if (o.markdown === true) {
        console.log('| key | env | default | meaning |\n|---|---|---|---|')
        for (const k of keys) console.log(`| \`${k.key}\` | \`${k.env}\` | \`${JSON.stringify(k.default) ?? ''}\` | ${k.description} |`)
      } else {
        for (const k of keys) console.log(`${k.key}  (${k.env})  default ${JSON.stringify(k.default)}\n    ${k.description}`)
      }
    })

  program.command('status')
    .description('show the status of a running local node')
    .option('-d, --data-dir <dir>', 'data directory of the node')
    .option('--api <url>', 'API URL of the node (default: from <data dir>/api.json)')
    .option('--json', 'print as JSON')
    .action(async (o: { dataDir?: string, api?: string, json?: boolean }) => {
      const base = await apiUrl(o)
      const status = await callApi(base, 'v1/status') as Record<string, unknown>
      if (o.json === true) { console.log(JSON.stringify(status, null, 2)); return }
      for (const [k, v] of Object.entries(status)) console.log(`${k.padEnd(14)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    })

  program.command('stop')
    .description('stop a running local node gracefully')
    .option('-d, --data-dir <dir>', 'data directory of the node')
    .option('--api <url>', 'API URL of the node')
    .action(async (o: { dataDir?: string, api?: string }) => {
      const base = await apiUrl(o)
      await callApi(base, 'v1/stop', { method: 'POST' })
      console.log('stopping')
    })

  registerExtraCommands(program)
  return program
}

export async function main (argv: string[]): Promise<number> {
  const program = buildProgram()
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) })
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 2 like every other bad input.
      return err.exitCode === 0 ? 0 : 2
    }
    if (err instanceof PetalmeshError) {
      process.stderr.write(`petalmesh: ${err.message}\n`)
      return err.exitCode
    }
    if (err instanceof UsageError) {
      process.stderr.write(`petalmesh: ${err.message}\n`)
      return 2
    }
    process.stderr.write(`petalmesh: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    return 1
  }
}
