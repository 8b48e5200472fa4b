// The bridge's configuration. The daemon nests it under the key `petals` of its own config.

import { z } from 'zod'

const envVarName = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Where the Hugging Face token comes from. Never the token itself: secrets must not sit in configs or argv. */
export const tokenSourceSchema = z.union([
  z.object({
    file: z.string().min(1).describe('Path of a file whose content is the Hugging Face token')
  }).strict(),
  z.object({
    env: z.string().regex(envVarName, 'must be an environment variable name')
      .refine((name) => !/^hf_[A-Za-z0-9]{20,}$/.test(name), 'looks like a Hugging Face token, not a variable name: put the token in a file or an environment variable and reference that instead')
      .describe('Name of the environment variable holding the Hugging Face token')
  }).strict()
]).describe('Hugging Face token for gated models, read from a file or an environment variable and passed to Petals through HF_TOKEN (never on the command line)')

export const restartPolicySchema = z.object({
  backoffBaseMs: z.number().int().min(0).default(2_000)
    .describe('Delay before the first automatic restart after a crash; doubles with each further crash in the window'),
  backoffMaxMs: z.number().int().min(0).default(120_000)
    .describe('Upper bound of the restart delay'),
  maxRestarts: z.number().int().min(0).default(5)
    .describe('Crashes tolerated within windowMs; one more and the node goes standby (state "failed") and says why'),
  windowMs: z.number().int().positive().default(600_000)
    .describe('Sliding window in which crashes are counted')
}).describe('Automatic restart of a crashed Petals server')

export const logFileSchema = z.object({
  maxBytes: z.number().int().positive().default(10 * 1024 * 1024)
    .describe('Rotate the Petals log file when it grows past this size'),
  maxFiles: z.number().int().min(1).default(5)
    .describe('Rotated log files kept (petals.log.1 ... petals.log.N)')
}).describe('Rotating file that receives every line Petals prints, in the node\'s data directory')

const sizePattern = /^\s*\d+(\.\d+)?\s*([kmgtp]i?b?|b)?\s*$/i

export const petalsConfigSchema = z.object({
  backend: z.enum(['petals', 'simulated']).default('petals')
    .describe('"petals" runs the real Python server; "simulated" serves nothing and only pretends (demo, simulator)'),
  python: z.string().min(1).default('python3')
    .describe('Python executable that has Petals installed (e.g. /opt/petals/venv/bin/python)'),
  model: z.string().default('')
    .describe('Model to serve: a Hugging Face repo id (meta-llama/Meta-Llama-3.1-405B-Instruct) or a local directory'),
  revision: z.string().min(1).nullable().default(null)
    .describe('Hugging Face revision (branch, tag or commit) of the model; null = Petals\' default'),
  dhtPrefix: z.string().min(1).nullable().default(null)
    .describe('DHT prefix the blocks are announced under; null = derived from the model name by Petals\' rules (required for a local directory). No "." or space'),
  port: z.number().int().min(1).max(65535).default(31330)
    .describe('Fixed TCP port the Petals server (its libp2p daemon) listens on; open it in the firewall'),
  publicIp: z.ipv4().nullable().default(null)
    .describe('Public IPv4 address to announce (--public_ip); exclusive with announceMaddrs'),
  announceMaddrs: z.array(z.string().min(1)).default([])
    .describe('Multiaddrs to announce instead of the interface addresses (--announce_maddrs), e.g. /ip4/203.0.113.7/tcp/31330; exclusive with publicIp'),
  publicName: z.string().min(1).nullable().default(null)
    .describe('Name shown for this server in Petals\' health monitor (--public_name)'),
  torchDtype: z.enum(['auto', 'bfloat16', 'float16', 'float32']).default('auto')
    .describe('Weights dtype (--torch_dtype); auto = the model\'s dtype, bfloat16 when that is float32'),
  quantType: z.enum(['auto', 'none', 'int8', 'nf4']).default('auto')
    .describe('Weight quantization (--quant_type); auto = Petals\' default (nf4 on a GPU, none on CPU)'),
  throughput: z.union([z.number().nonnegative(), z.enum(['auto', 'eval'])]).default('auto')
    .describe('Announced throughput in tokens/s, or "auto" (measure once and cache) / "eval" (measure again)'),
  cacheDir: z.string().min(1).nullable().default(null)
    .describe('Directory for downloaded weights (--cache_dir, PETALS_CACHE); null = Petals\' default ~/.cache/petals'),
  maxDiskSpace: z.string().regex(sizePattern, 'must be a size such as 50GB, 100GiB or 1500MB').nullable().default(null)
    .describe('Disk space the weight cache may use (--max_disk_space), e.g. 100GB; null = unlimited'),
  adapters: z.array(z.string().min(1)).default([])
    .describe('LoRA adapters (Hugging Face repos) to preload (--adapters)'),
  token: tokenSourceSchema.nullable().default(null)
    .describe('Hugging Face token source for gated models: {"file": PATH} or {"env": VAR_NAME}; null = none. Passed to Petals as HF_TOKEN, never on the command line'),
  numBlocks: z.number().int().positive().nullable().default(null)
    .describe('Blocks this node can hold; null = computed from vramGb or the detected GPU memory'),
  vramGb: z.number().positive().nullable().default(null)
    .describe('GPU memory (GiB) to plan with; null = the detected GPU\'s total memory'),
  cudaVisibleDevices: z.string().min(1).nullable().default(null)
    .describe('CUDA_VISIBLE_DEVICES for the server, e.g. "1" to use only the second GPU; null = inherit'),
  identityPath: z.string().min(1).nullable().default(null)
    .describe('Petals server identity (libp2p RSA key) file; null = petals/identity.key in the node\'s data directory'),
  restart: restartPolicySchema.prefault({})
    .describe('Automatic restart of a crashed Petals server: exponential backoff, at most maxRestarts crashes per windowMs'),
  swarmSeedWaitMs: z.number().int().min(0).default(120_000)
    .describe('While no member\'s Petals DHT is up, only the swarm\'s seed (one node, the same in every view) starts a new Petals swarm and the others wait for it; after this long a waiting server starts a swarm of its own anyway (an island) and warns'),
  stopGraceMs: z.number().int().min(0).default(30_000)
    .describe('Time Petals gets to stop after SIGINT (announce offline, shut down) before SIGKILL'),
  stuckDownloadRetries: z.number().int().min(1).default(3)
    .describe('Consecutive "Failed to load file ... (retry in 30 sec)" lines after which the download is considered stuck and the server restarted'),
  logFile: logFileSchema.prefault({})
    .describe('Rotating copy of everything Petals prints, at petals/logs/petals.log in the node\'s data directory'),
  extraArgs: z.array(z.string()).default([])
    .describe('Further run_server arguments, e.g. ["--max_batch_size", "4096"]; arguments petalmesh manages itself are refused')
}).describe('Petals server launched and supervised by this node')

export type PetalsConfig = z.infer<typeof petalsConfigSchema>
export type PetalsConfigInput = z.input<typeof petalsConfigSchema>
export type RestartPolicyConfig = z.infer<typeof restartPolicySchema>
export type TokenSource = z.infer<typeof tokenSourceSchema>

/** Parse (and default) a Petals configuration; throws a ZodError on invalid input. */
export function parsePetalsConfig (input: unknown): PetalsConfig {
  return petalsConfigSchema.parse(input ?? {})
}
