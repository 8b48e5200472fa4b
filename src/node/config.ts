// The daemon's configuration: one zod schema, four layers (defaults < file < environment < flags),
// and a record of where each effective value came from (`petalmesh config print`).
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { parse as parseYaml } from 'yaml'
import { multiaddr } from '@multiformats/multiaddr'
import { ConfigError } from '../util/errors.ts'
import { petalsConfigSchema } from '../petals-bridge/config.ts'
import { trustConfigSchema } from './trust/config.ts'

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const DEFAULT_BOOTSTRAP_FILE = join(PROJECT_ROOT, 'bootstrap.json')

function parsesAsMultiaddr (s: string): boolean {
  try {
    multiaddr(s)
    return true
  } catch {
    return false
  }
}

const multiaddrString = z.string().refine(parsesAsMultiaddr, {
  message: 'not a valid multiaddr; expected something like /ip4/127.0.0.1/tcp/31400'
})
const bootstrapAddr = z.string()
  .refine(parsesAsMultiaddr, { message: 'not a valid multiaddr; expected /ip4/HOST/tcp/PORT/p2p/PEERID' })
  .refine(s => /\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(s), { message: 'a bootstrap address must end in /p2p/<peer id>, e.g. /ip4/10.0.0.5/tcp/31400/p2p/12D3KooW...' })

const positiveMs = z.number().int().positive()

/** The schema of petalmesh's configuration; every key has a default and a description. */
export const configSchema = z.object({
  dataDir: z.string().min(1).default(join(homedir(), '.petalmesh')).describe('Directory for the node identity, logs and Petals state'),
  listen: z.array(multiaddrString).default(['/ip4/0.0.0.0/tcp/31400']).describe('libp2p listen multiaddrs'),
  announce: z.array(multiaddrString).default([]).describe('Multiaddrs to announce instead of the listen addresses (public IP, port forward)'),
  bootstrap: z.array(bootstrapAddr).describe('Bootstrap peers (/ip4/HOST/tcp/PORT/p2p/PEERID); default: the list in bootstrap.json'),
  log: z.object({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info').describe('Log level'),
    format: z.enum(['auto', 'pretty', 'json']).default('auto').describe('auto = human-readable on a TTY, JSON lines otherwise')
  }).strict().prefault({}),
  network: z.object({
    maxConnections: z.number().int().min(1).default(300).describe('Connection manager limit; excess connections are pruned'),
    inboundConnectionsPerSecond: z.number().positive().default(100).describe('Inbound connection attempts accepted per second per source IP (libp2p default 5 refuses swarms that share an IP)'),
    maxIncomingPending: z.number().int().min(1).default(100).describe('Inbound connections being upgraded at once'),
    ipColocationWhitelist: z.array(z.string()).default(['127.0.0.1', '::1']).describe('IPs exempt from gossipsub\'s many-peers-on-one-IP penalty'),
    targetPeers: z.number().int().min(1).default(8).describe('Keep dialling known peers while connected to fewer than this'),
    redialMs: positiveMs.default(3000).describe('Base period of the bootstrap redial loop (backs off to network.redialMaxMs while nothing answers)'),
    dhtMode: z.enum(['server', 'client', 'off']).default('server').describe('kad-dht mode; client for nodes that cannot accept connections (a server switches to client by itself when peers cannot dial it); off only for big in-process simulations'),
    transport: z.enum(['tcp', 'memory']).default('tcp').describe('tcp for real deployments; memory for in-process simulations'),
    redialMaxMs: positiveMs.default(30_000).describe('Longest wait between redial rounds while no peer answers (a network change redials at once)'),
    // NAT traversal (tcp transport only; the memory transport runs none of it). See README "Behind NAT / firewalls".
    natTraversal: z.boolean().default(true).describe('false = no AutoNAT, relays, hole punching, UPnP or reachability monitor (in-process loopback simulations); the memory transport never runs them'),
    reachability: z.enum(['auto', 'public', 'private']).default('auto').describe('auto = detect (AutoNAT, NAT seen by peers, UPnP); public = peers can dial this node; private = they cannot (DHT client, use relays)'),
    autonat: z.boolean().default(true).describe('Run AutoNAT (/libp2p/autonat/1.0.0): ask peers to dial our public addresses back, and answer them'),
    relayServer: z.boolean().default(true).describe('Act as a circuit relay v2 for NATed peers while this node is directly reachable, within the limits below'),
    relayMaxReservations: z.number().int().min(1).default(32).describe('Relay: most NATed peers holding a reservation on this node at once'),
    relayMaxCircuitMs: positiveMs.default(120_000).describe('Relay: longest life of one relayed connection (hole punching replaces it with a direct one)'),
    relayMaxCircuitBytes: z.number().int().min(1024).default(1 << 20).describe('Relay: most bytes one relayed connection may carry (both directions together)'),
    relayClient: z.boolean().default(true).describe('When this node is not dialable, reserve a slot on a relay peer and announce the relayed address'),
    holePunching: z.boolean().default(true).describe('DCUtR (/libp2p/dcutr): upgrade relayed connections to direct ones by hole punching'),
    upnp: z.enum(['auto', 'on', 'off']).default('auto').describe('UPnP/NAT-PMP port mapping on the router; auto = on for tcp nodes listening beyond loopback unless reachability is public')
  }).strict().prefault({}),
  swarm: z.object({
    model: z.string().min(1).max(128).default('petalmesh-demo').describe('Swarm id: the Petals dht_prefix of the model (e.g. bigscience/bloom-petals)'),
    totalBlocks: z.number().int().min(0).max(100_000).default(24).describe('Number of transformer blocks of the model; 0 on a client = learn it from the swarm'),
    role: z.enum(['server', 'client']).default('server').describe('server serves blocks; client only follows the swarm and routes'),
    span: z.string().regex(/^\d+:\d+$/, 'expected start:end, e.g. 0:12').optional().describe('Serve exactly these blocks (start:end) instead of negotiating'),
    capacity: z.number().int().min(0).max(100_000).default(0).describe('Max blocks this node holds; 0 = derive from VRAM (petals.vramGb) or serve all blocks'),
    throughput: z.number().min(0).max(1e9).default(100).describe('Announced throughput in tokens/s (Petals\' meaning)'),
    replication: z.number().int().min(1).max(100).default(1).describe('Target number of servers per block'),
    standby: z.boolean().default(false).describe('Stay a spare: serve only to fill holes left by departed nodes'),
    planner: z.enum(['petalmesh', 'petals']).default('petalmesh').describe('petals = Petals\' own block selection, for side-by-side benchmarks only'),
    settleMs: z.number().int().min(0).max(300_000).default(1000).describe('A claim stands this long before it commits, so every planner sees it; a new node is placed half of it after its join epoch (at most 300000)'),
    minGain: z.number().min(0).default(0.01).describe('Rebalance only when the bottleneck improves by more than this factor, counting the reload'),
    reloadMs: z.number().int().min(0).default(600_000).describe('Assumed downtime of one move (Petals reloading weights), charged against a rebalance'),
    cooldownMs: z.number().int().min(0).default(3_600_000).describe('A node that took its span less than this long ago moves only in a rebalance that lifts the bottleneck by over 10 % (hysteresis; keep it well above reloadMs: a server warns at start when it is below)'),
    publicName: z.string().max(256).regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters').default('').describe('Name shown to other operators'),
    heartbeatMs: z.number().int().min(50).max(300_000).default(2000).describe('Heartbeat period (crashes are detected from closed connections, not heartbeats; see README; at most 300000)'),
    maxHeartbeatRate: z.number().positive().default(10).describe('Swarm-wide heartbeats per second to aim for: the period stretches to members/rate seconds in big swarms'),
    recordRefreshMs: z.number().int().min(100).default(30_000).describe('Full record republish period'),
    suspectAfterMs: z.number().int().min(50).default(5000).describe('Silence before a member is suspect'),
    offlineAfterMs: z.number().int().min(100).default(10_000).describe('Silence before a member is offline'),
    tombstoneMs: z.number().int().min(600_000).default(900_000).describe('How long departed members are remembered; at least the 10 min record age window, so old copies cannot revive them')
  }).strict()
    .refine(s => s.suspectAfterMs < s.offlineAfterMs, { message: 'swarm.suspectAfterMs must be less than swarm.offlineAfterMs', path: ['suspectAfterMs'] })
    .refine(s => { const m = /^(\d+):(\d+)$/.exec(s.span ?? ''); return m == null || (Number(m[1]) < Number(m[2]) && (s.totalBlocks === 0 || Number(m[2]) <= s.totalBlocks)) }, { message: 'must satisfy start < end <= swarm.totalBlocks', path: ['span'] })
    .prefault({}),
  petals: petalsConfigSchema.prefault({}),
  trust: trustConfigSchema.prefault({}),
  api: z.object({
    enabled: z.boolean().default(true).describe('Serve the local HTTP API and dashboard'),
    host: z.string().default('127.0.0.1').describe('API bind address; beyond loopback, mutating calls need a token'),
    port: z.number().int().min(0).max(65535).default(31401).describe('API port; 0 = any free port (written to <dataDir>/api.json)')
  }).strict().prefault({})
}).strict()

export type PetalmeshConfig = z.infer<typeof configSchema>
export type ConfigSource = 'default' | `file:${string}` | `env:${string}` | `flag:${string}`

export interface LoadedConfig {
  config: PetalmeshConfig
  /** Source of each leaf key, by dotted path. */
  sources: Record<string, ConfigSource>
  configFile: string | null
}

type ZodAny = z.ZodType
interface Leaf { path: string[], schema: ZodAny, kind: 'string' | 'number' | 'boolean' | 'array' | 'enum' | 'other' }

/** Unwraps default/prefault/optional wrappers to the schema that checks the value. */
function unwrap (s: ZodAny): ZodAny {
  let cur = s
  for (let i = 0; i < 10; i++) {
    const def = (cur as unknown as { def: { type: string, innerType?: ZodAny, in?: ZodAny } }).def
    if ((def.type === 'default' || def.type === 'prefault' || def.type === 'optional' || def.type === 'nullable') && def.innerType != null) cur = def.innerType
    else if (def.type === 'pipe' && def.in != null) cur = def.in
    else break
  }
  return cur
}

function leavesOf (schema: ZodAny, prefix: string[] = []): Leaf[] {
  const inner = unwrap(schema)
  const type = (inner as unknown as { def: { type: string } }).def.type
  if (type === 'object') {
    const shape = (inner as z.ZodObject).shape as Record<string, ZodAny>
    return Object.entries(shape).flatMap(([k, v]) => leavesOf(v, [...prefix, k]))
  }
  const kind = type === 'string' || type === 'number' || type === 'boolean' || type === 'array' || type === 'enum' ? type : 'other'
  return [{ path: prefix, schema, kind }]
}

export const CONFIG_LEAVES: readonly Leaf[] = leavesOf(configSchema)

/** `network.maxConnections` → `PETALMESH_NETWORK__MAX_CONNECTIONS`. */
export function envNameFor (path: readonly string[]): string {
  return 'PETALMESH_' + path.map(p => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('__')
}

/** Environment variables petalmesh reads that are not config keys. */
const NON_CONFIG_ENV = new Set(['PETALMESH_CONFIG'])

export function describeConfigKeys (): Array<{ key: string, env: string, description: string, default: unknown }> {
  const defaults = configSchema.parse({ bootstrap: [] }) as unknown as Record<string, unknown>
  return CONFIG_LEAVES.map(l => ({
    key: l.path.join('.'),
    env: envNameFor(l.path),
    description: l.schema.description ?? unwrap(l.schema).description ?? '',
    default: l.path.join('.') === 'bootstrap' ? '(bootstrap.json)' : getPath(defaults, l.path)
  }))
}

function getPath (obj: unknown, path: readonly (string | number)[]): unknown {
  let cur = obj
  for (const p of path) {
    if (cur == null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[p]
  }
  return cur
}

function setPath (obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj
  for (const p of path.slice(0, -1)) {
    const next = cur[p]
    if (next == null || typeof next !== 'object' || Array.isArray(next)) cur[p] = {}
    cur = cur[p] as Record<string, unknown>
  }
  cur[path[path.length - 1]] = value
}

/** Converts a string (from env or a `--set` flag) to the leaf's type, or leaves it for zod to reject. */
export function coerceString (leaf: Leaf, raw: string): unknown {
  const s = raw.trim()
  switch (leaf.kind) {
    case 'number': return s !== '' && Number.isFinite(Number(s)) ? Number(s) : raw
    case 'boolean': return s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : raw
    case 'array':
      if (s.startsWith('[')) {
        try { return JSON.parse(s) } catch { return raw }
      }
      return s === '' ? [] : s.split(',').map(x => x.trim()).filter(x => x !== '')
    case 'other': {
      // Unions such as petals.throughput (a number or "auto"/"eval"): a string the schema accepts
      // stays a string, else a number or boolean it accepts, else the raw text (for the error).
      if (leaf.schema.safeParse(raw).success) return raw
      for (const v of [Number(s), s === 'true' ? true : s === 'false' ? false : undefined]) {
        if (v !== undefined && s !== '' && !Number.isNaN(v) && leaf.schema.safeParse(v).success) return v
      }
      return raw
    }
    default: return raw
  }
}

function leafByKey (key: string): Leaf | undefined {
  return CONFIG_LEAVES.find(l => l.path.join('.') === key)
}

export function allowedKeysHint (): string {
  return 'allowed keys: ' + CONFIG_LEAVES.map(l => l.path.join('.')).join(', ')
}

/** Records every leaf of `obj` under its dotted path as coming from `source`. */
function recordSources (obj: Record<string, unknown>, source: ConfigSource, sources: Record<string, ConfigSource>, prefix: string[] = []): void {
  for (const [k, v] of Object.entries(obj)) {
    const path = [...prefix, k]
    if (v != null && typeof v === 'object' && !Array.isArray(v) && leafByKey(path.join('.')) == null) recordSources(v as Record<string, unknown>, source, sources, path)
    else sources[path.join('.')] = source
  }
}

function deepMerge (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const b = out[k]
    out[k] = v != null && typeof v === 'object' && !Array.isArray(v) && b != null && typeof b === 'object' && !Array.isArray(b)
      ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
      : v
  }
  return out
}

export async function readConfigFile (path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'file does not exist' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message
    throw new ConfigError('--config', path, `cannot read the config file (${why}); pass a readable JSON or YAML file`)
  }
  let parsed: unknown
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw new ConfigError('--config', path, `the file is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML/JSON'}: ${(err as Error).message.split('\n')[0]}`)
  }
  if (parsed == null) return {}
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('--config', path, 'the file must contain an object of config keys at the top level')
  }
  // Accept `log.level: info` as well as the nested `log: { level: info }`.
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (k.includes('.')) setPath(out, k.split('.'), v)
    else out[k] = v != null && typeof v === 'object' && !Array.isArray(v) && typeof out[k] === 'object' ? deepMerge(out[k] as Record<string, unknown>, v as Record<string, unknown>) : v
  }
  return out
}

export function readDefaultBootstrap (file = DEFAULT_BOOTSTRAP_FILE): string[] {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { bootstrap?: unknown }
    return Array.isArray(parsed.bootstrap) ? parsed.bootstrap.filter((x): x is string => typeof x === 'string') : []
  } catch {
    return []
  }
}

/** Turns PETALMESH_* variables into a config object; unknown names are errors (a typo must not be ignored). */
export function envLayer (env: NodeJS.ProcessEnv): { values: Record<string, unknown>, sources: Record<string, ConfigSource> } {
  const values: Record<string, unknown> = {}
  const sources: Record<string, ConfigSource> = {}
  const byEnv = new Map(CONFIG_LEAVES.map(l => [envNameFor(l.path), l]))
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('PETALMESH_') || raw == null || NON_CONFIG_ENV.has(name) || name.startsWith('PETALMESH_SECRET_')) continue
    const leaf = byEnv.get(name)
    if (leaf == null) {
      throw new ConfigError(name, raw, `unknown environment variable; petalmesh reads ${[...byEnv.keys()].join(', ')}`, 'environment')
    }
    setPath(values, leaf.path, coerceString(leaf, raw))
    sources[leaf.path.join('.')] = `env:${name}`
  }
  return { values, sources }
}

/** Parses `--set key=value` assignments. */
export function setFlagsLayer (assignments: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {}
  for (const a of assignments) {
    const eq = a.indexOf('=')
    if (eq <= 0) throw new ConfigError('--set', a, 'expected key=value, e.g. --set network.maxConnections=200')
    const key = a.slice(0, eq)
    const leaf = leafByKey(key)
    if (leaf == null) throw new ConfigError(key, a.slice(eq + 1), `unknown key; ${allowedKeysHint()}`, 'flag --set')
    setPath(values, leaf.path, coerceString(leaf, a.slice(eq + 1)))
  }
  return values
}

export interface ConfigInputs {
  configFile?: string | null
  env?: NodeJS.ProcessEnv
  /** Values from dedicated CLI flags and `--set`, as a (nested) config object. */
  flags?: Record<string, unknown>
  /** Label used for flag-sourced values, e.g. `flag:--listen`; defaults to `flag`. */
  flagSources?: Record<string, ConfigSource>
}

/** Builds the effective configuration from its four layers and validates it against the schema. */
export async function loadConfig (inputs: ConfigInputs = {}): Promise<LoadedConfig> {
  const env = inputs.env ?? process.env
  const configFile = inputs.configFile ?? env.PETALMESH_CONFIG ?? null
  const sources: Record<string, ConfigSource> = {}
  for (const l of CONFIG_LEAVES) sources[l.path.join('.')] = 'default'

  let merged: Record<string, unknown> = { bootstrap: readDefaultBootstrap() }
  if (configFile != null) {
    const fileValues = await readConfigFile(configFile)
    recordSources(fileValues, `file:${configFile}`, sources)
    merged = deepMerge(merged, fileValues)
  }
  const envValues = envLayer(env)
  Object.assign(sources, envValues.sources)
  merged = deepMerge(merged, envValues.values)
  if (inputs.flags != null) {
    const flagSources: Record<string, ConfigSource> = {}
    recordSources(inputs.flags, 'flag:--set', flagSources)
    Object.assign(sources, flagSources, inputs.flagSources ?? {})
    merged = deepMerge(merged, inputs.flags)
  }
  return { config: validateConfig(merged, sources), sources, configFile }
}

/** Validates a raw merged config; the first problem becomes a ConfigError naming key, value, allowed values and source. */
export function validateConfig (raw: Record<string, unknown>, sources: Record<string, ConfigSource> = {}): PetalmeshConfig {
  const result = configSchema.safeParse(raw)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const basePath = issue.path.map(String)
  if (issue.code === 'unrecognized_keys') {
    const key = [...basePath, issue.keys[0]].join('.')
    const source = sources[key] ?? sourceOfUnknown(key, sources)
    throw new ConfigError(key, getPath(raw, [...basePath, issue.keys[0]]), `unknown key; ${allowedKeysHint()}`, source)
  }
  // Report the leaf key (e.g. `listen`, not `listen.0`) but show the offending element's value.
  const leafPath = basePath.filter(p => !/^\d+$/.test(p))
  const key = leafPath.join('.')
  const value = getPath(raw, issue.path as Array<string | number>)
  const allowed = describeAllowed(issue)
  throw new ConfigError(key === '' ? '(root)' : key, value, allowed, sources[key])
}

function sourceOfUnknown (key: string, sources: Record<string, ConfigSource>): ConfigSource | undefined {
  // Unknown keys only come from the file (env and --set are checked by name earlier).
  const file = Object.values(sources).find(s => s.startsWith('file:'))
  return sources[key] ?? file
}

function describeAllowed (issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' && 'values' in issue) return `must be one of ${(issue.values as unknown[]).map(v => JSON.stringify(v)).join(', ')}`
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`
  if (issue.code === 'too_small' || issue.code === 'too_big') return issue.message.replace(/^Too (small|big): /, '')
  // A union (e.g. a number or "auto") says only "Invalid input": name what each branch accepts.
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    return issue.errors.map(branch => branch.length > 0 ? describeAllowed(branch[0]) : 'anything').join(', or ')
  }
  return issue.message
}

/** The effective config with each key's source, for `petalmesh config print`. */
export function describeEffective (loaded: LoadedConfig): Array<{ key: string, value: unknown, source: ConfigSource }> {
  return CONFIG_LEAVES.map(l => {
    const key = l.path.join('.')
    return { key, value: getPath(loaded.config, l.path), source: loaded.sources[key] ?? 'default' }
  })
}
