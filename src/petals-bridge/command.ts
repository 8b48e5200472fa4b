// Building the exact `python -m petals.cli.run_server` command for a span, refusing (before anything
// starts) every combination Petals itself would reject and every setting petalmesh must own.

import { resolve } from 'node:path'
import type { Span } from '../protocols/types.ts'
import type { PetalsConfig } from './config.ts'
import { resolveDhtPrefix } from './dht-prefix.ts'
import { InvalidPetalsCommandError } from './errors.ts'
import { parseMaddr } from './maddr.ts'
import type { ModelMetadata } from './model-metadata.ts'
import { extraArgsProblem } from './petals-args.ts'
import { petalsReachabilityArgs, type PetalsReachabilityHint } from './reachability-args.ts'
import { describeTokenSource, resolveToken } from './token.ts'

export const RUN_SERVER_MODULE = 'petals.cli.run_server'

export interface BuildCommandInput {
  config: PetalsConfig
  metadata: ModelMetadata
  span: Span
  /** Hivemind multiaddrs of online Petals servers; empty = --new_swarm. */
  initialPeers: readonly string[]
  identityPath: string
  /** This server's own peer ID, dropped from initialPeers (a stale record of ourselves must not bootstrap us). */
  ownPeerId?: string | null
  /** Clean working directory to run from (Petals reads ./config.yml silently). */
  workDir: string
  /** Environment used to resolve petals.token.env (default process.env). */
  env?: NodeJS.ProcessEnv
  /** Do not read the token (dry runs): the environment then shows where it would come from. */
  skipTokenResolution?: boolean
  /** How the node is reachable: picks --public_ip / --announce_maddrs when petals.* does not set them. */
  reachability?: PetalsReachabilityHint | null
}

export interface PetalsCommand {
  /** The Python executable. */
  command: string
  args: string[]
  /** Variables added to the inherited environment. Contains the token, if any: never log it, use redactedEnv. */
  env: Record<string, string>
  /** `env` with secrets replaced by a description of their source. */
  redactedEnv: Record<string, string>
  cwd: string
  span: Span
  dhtPrefix: string
  initialPeers: string[]
  /** Why the network flags are what they are (reachability). */
  networkReason: string
}

function fail (field: string, message: string, hint: string): never {
  throw new InvalidPetalsCommandError(field, message, hint)
}

function checkSpan (span: Span, meta: ModelMetadata): void {
  if (!Number.isInteger(span.start) || !Number.isInteger(span.end) || span.start < 0 || span.end <= span.start) {
    fail('span', `Invalid span ${span.start}:${span.end}: it must be start:end with 0 <= start < end`, 'Spans are half-open block ranges, e.g. 0:18')
  }
  if (span.end > meta.numBlocks) {
    fail('span', `Span ${span.start}:${span.end} is past the model's last block (${meta.model} has ${meta.numBlocks} blocks, 0:${meta.numBlocks})`,
      'Use a span within the model\'s block count')
  }
}

function checkAnnounce (config: PetalsConfig): void {
  if (config.publicIp != null && config.announceMaddrs.length > 0) {
    fail('publicIp', 'petals.publicIp and petals.announceMaddrs cannot both be set (Petals: "You can\'t use --public_ip and --announce_maddrs at the same time")',
      'Keep publicIp (announces /ip4/<publicIp>/tcp/<port>) or list the addresses in announceMaddrs, not both')
  }
  for (const maddr of config.announceMaddrs) {
    const parsed = parseMaddr(maddr)
    if (parsed == null) fail('announceMaddrs', `"${maddr}" is not a valid multiaddr`, 'Use the form /ip4/203.0.113.7/tcp/31330')
    if (parsed.tcpPort == null || parsed.tcpPort === 0) {
      fail('announceMaddrs', `"${maddr}" has no fixed TCP port (hivemind: "port 0 is not supported")`, 'Give the port explicitly, e.g. /ip4/203.0.113.7/tcp/31330')
    }
    if (parsed.peerId != null) fail('announceMaddrs', `"${maddr}" must not end in /p2p/<id>`, 'Drop the /p2p/ part: petalmesh appends the server\'s own peer ID')
  }
}

function checkInitialPeers (peers: readonly string[], ownPeerId: string | null): string[] {
  const result: string[] = []
  for (const peer of peers) {
    const parsed = parseMaddr(peer)
    if (parsed == null || parsed.peerId == null) {
      fail('initialPeers', `Initial peer "${peer}" is not a multiaddr ending in /p2p/<peer id>`, 'Initial peers come from the swarm view; this is a bug in the caller')
    }
    if (parsed.peerId === ownPeerId || result.includes(peer)) continue
    result.push(peer)
  }
  return result
}

function checkPlainValue (field: string, value: string, what: string): void {
  if (value.startsWith('-')) fail(field, `${what} "${value}" starts with "-" and would be read as an option`, `Fix petals.${field}`)
}

/** Build the run_server command for `span`. Throws InvalidPetalsCommandError (or TokenError) instead of producing a command Petals would reject. */
export function buildServerCommand (input: BuildCommandInput): PetalsCommand {
  const { config, metadata: meta } = input
  if (config.model.trim() === '') fail('model', 'No model configured', 'Set petals.model to a Hugging Face repo id or a local model directory')
  checkSpan(input.span, meta)
  const dhtPrefix = resolveDhtPrefix(config.dhtPrefix, meta.defaultDhtPrefix, meta.model)
  checkAnnounce(config)
  const initialPeers = checkInitialPeers(input.initialPeers, input.ownPeerId ?? null)
  for (const adapter of config.adapters) checkPlainValue('adapters', adapter, 'Adapter')
  if (config.publicName != null) checkPlainValue('publicName', config.publicName, 'Public name')
  if (config.revision != null) checkPlainValue('revision', config.revision, 'Revision')
  if (config.cudaVisibleDevices != null && !/^[\w,:-]+$/.test(config.cudaVisibleDevices)) {
    fail('cudaVisibleDevices', `CUDA_VISIBLE_DEVICES "${config.cudaVisibleDevices}" is not a device list`, 'Use GPU indices or UUIDs separated by commas, e.g. "0" or "0,1"')
  }
  const extra = extraArgsProblem(config.extraArgs)
  if (extra != null) fail('extraArgs', `Extra argument ${extra.arg} ${extra.reason}`, 'Remove it from petals.extraArgs (or set the matching petals.* option)')

  const args = ['-m', RUN_SERVER_MODULE, meta.model]
  args.push('--block_indices', `${input.span.start}:${input.span.end}`)
  args.push('--dht_prefix', dhtPrefix)
  args.push('--port', String(config.port))
  if (config.publicIp != null) args.push('--public_ip', config.publicIp)
  if (config.announceMaddrs.length > 0) args.push('--announce_maddrs', ...config.announceMaddrs)
  const network = petalsReachabilityArgs(config, input.reachability)
  args.push(...network.args)
  args.push('--identity_path', input.identityPath)
  if (config.publicName != null) args.push('--public_name', config.publicName)
  args.push('--torch_dtype', config.torchDtype)
  if (config.quantType !== 'auto') args.push('--quant_type', config.quantType)
  args.push('--throughput', String(config.throughput))
  const cacheDir = config.cacheDir != null ? resolve(config.cacheDir) : null // Petals runs from workDir
  if (cacheDir != null) args.push('--cache_dir', cacheDir)
  if (config.maxDiskSpace != null) args.push('--max_disk_space', config.maxDiskSpace.replace(/\s+/g, ''))
  if (config.revision != null) args.push('--revision', config.revision)
  if (config.token != null) args.push('--use_auth_token')
  args.push(...config.extraArgs)
  if (config.adapters.length > 0) args.push('--adapters', ...config.adapters)
  if (initialPeers.length > 0) args.push('--initial_peers', ...initialPeers)
  else args.push('--new_swarm')

  const env: Record<string, string> = {
    HIVEMIND_COLORS: '0',
    PETALS_LOGGING: 'true',
    PYTHONUNBUFFERED: '1'
  }
  if (cacheDir != null) env.PETALS_CACHE = cacheDir
  if (config.cudaVisibleDevices != null) env.CUDA_VISIBLE_DEVICES = config.cudaVisibleDevices
  const redactedEnv = { ...env }
  if (config.token != null) {
    const shown = describeTokenSource(config.token)
    redactedEnv.HF_TOKEN = shown
    redactedEnv.HUGGING_FACE_HUB_TOKEN = shown
    if (input.skipTokenResolution !== true) {
      const token = resolveToken(config.token, input.env) as string
      env.HF_TOKEN = token
      env.HUGGING_FACE_HUB_TOKEN = token
    }
  }
  return { command: config.python, args, env, redactedEnv, cwd: input.workDir, span: { ...input.span }, dhtPrefix, initialPeers, networkReason: network.reason }
}

/** Quote an argv for display in a POSIX shell. */
export function shellQuote (argv: readonly string[]): string {
  return argv.map((arg) => /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`).join(' ')
}
