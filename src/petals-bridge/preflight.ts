// "Share my GPU" preflight: Python found (and its version), Petals importable (and its version), a GPU
// visible to PyTorch, and the model understood. Each failure comes with the fix. `petalmesh doctor` prints them.

import { tmpdir } from 'node:os'
import { execa } from 'execa'
import type { PetalsConfig } from './config.ts'
import { PetalsBridgeError } from './errors.ts'
import { blockMemory, nodeCapacity, resolveQuantType, resolveTorchDtype } from './memory.ts'
import { loadModelMetadata } from './model-metadata.ts'
import type { FetchLike, ModelMetadata } from './model-metadata.ts'
import { PROBE_SCRIPT } from './python-scripts.ts'

export type CheckId = 'python' | 'petals' | 'gpu' | 'model'

export interface PreflightCheck {
  id: CheckId
  level: 'ok' | 'warn' | 'error'
  summary: string
  /** What to do about it (null when fine). */
  fix: string | null
}

export interface GpuInfo {
  index: number
  name: string
  totalMemoryBytes: number
}

export interface PreflightReport {
  /** No check at level "error". */
  ok: boolean
  checks: PreflightCheck[]
  pythonVersion: string | null
  petalsVersion: string | null
  gpus: GpuInfo[]
  metadata: ModelMetadata | null
}

interface ProbeResult {
  python: { version: string, executable: string }
  petals: { ok: true, version: string | null } | { ok: false, error: string }
  torch: { ok: true, version: string | null, cuda: string | null, gpus: Array<{ index: number, name: string, totalMemory: number }>, mps: boolean } | { ok: false, error: string }
}

export interface PreflightOptions {
  config: Pick<PetalsConfig, 'python' | 'model' | 'revision' | 'cacheDir' | 'cudaVisibleDevices' | 'numBlocks' | 'vramGb' | 'torchDtype' | 'quantType'>
  /** Extra environment for the probe (added to the inherited one). */
  env?: Record<string, string | undefined>
  timeoutMs?: number
  /** Also check the model's config.json (default true when a model is configured). */
  checkModel?: boolean
  allowDownload?: boolean
  fetch?: FetchLike
  token?: string | null
}

const INSTALL_PETALS = 'pip install git+https://github.com/bigscience-workshop/petals'
const GIB = 1024 ** 3

async function probe (opts: PreflightOptions): Promise<{ result: ProbeResult | null, error: string | null, missing: boolean }> {
  const env: Record<string, string | undefined> = { ...opts.env }
  if (opts.config.cudaVisibleDevices != null) env.CUDA_VISIBLE_DEVICES = opts.config.cudaVisibleDevices
  try {
    const out = await execa(opts.config.python, [PROBE_SCRIPT], {
      cwd: tmpdir(),
      env,
      extendEnv: true,
      reject: false,
      timeout: opts.timeoutMs ?? 180_000,
      stdin: 'ignore',
      encoding: 'utf8'
    })
    if (out.failed && out.exitCode == null) {
      const code = (out as unknown as { code?: string }).code
      const missing = code === 'ENOENT' || /ENOENT/.test(out.message ?? '')
      return { result: null, error: out.timedOut ? `the probe timed out after ${opts.timeoutMs ?? 180_000} ms` : (out.shortMessage ?? out.message ?? 'failed'), missing }
    }
    const line = String(out.stdout).split('\n').reverse().find((l) => l.startsWith('PETALMESH_PROBE '))
    if (line == null) {
      return { result: null, error: `the probe printed no result (exit code ${String(out.exitCode)}): ${String(out.stderr).trim().split('\n').slice(-3).join(' | ')}`, missing: false }
    }
    return { result: JSON.parse(line.slice('PETALMESH_PROBE '.length)) as ProbeResult, error: null, missing: false }
  } catch (err) {
    return { result: null, error: (err as Error).message, missing: /ENOENT/.test((err as Error).message) }
  }
}

function pythonCheck (python: string, version: string): PreflightCheck {
  const [major, minor] = version.split('.').map(Number)
  if (major !== 3 || minor < 8) {
    return { id: 'python', level: 'error', summary: `Python ${version} (${python}) is too old for Petals`, fix: 'Install Python 3.8-3.11 and set petals.python to it' }
  }
  if (minor > 11) {
    return { id: 'python', level: 'warn', summary: `Python ${version} (${python}): Petals is tested on 3.8-3.11, some dependencies may not install`, fix: 'If installing Petals fails, use Python 3.11 (e.g. a venv) and set petals.python to it' }
  }
  return { id: 'python', level: 'ok', summary: `Python ${version} (${python})`, fix: null }
}

function petalsCheck (result: ProbeResult): PreflightCheck {
  if (result.petals.ok) {
    return { id: 'petals', level: 'ok', summary: `Petals ${result.petals.version ?? '(unknown version)'} importable`, fix: null }
  }
  const error = result.petals.error
  if (/transformers version/.test(error)) {
    return { id: 'petals', level: 'error', summary: `Petals is installed but its dependencies do not match: ${error}`, fix: `Reinstall in a clean virtual environment: ${INSTALL_PETALS}` }
  }
  return {
    id: 'petals',
    level: 'error',
    summary: `Petals cannot be imported by ${result.python.executable}: ${error}`,
    fix: `Install it for this Python: ${result.python.executable} -m ${INSTALL_PETALS} (or set petals.python to the Python that has it)`
  }
}

function gpuCheck (result: ProbeResult, config: PreflightOptions['config']): { check: PreflightCheck, gpus: GpuInfo[] } {
  if (!result.torch.ok) {
    return { check: { id: 'gpu', level: 'error', summary: `PyTorch cannot be imported: ${result.torch.error}`, fix: 'Install a CUDA build of PyTorch (https://pytorch.org/get-started/locally/), then Petals' }, gpus: [] }
  }
  const gpus = result.torch.gpus.map((g) => ({ index: g.index, name: g.name, totalMemoryBytes: g.totalMemory }))
  if (gpus.length > 0) {
    const list = gpus.map((g) => `#${g.index} ${g.name} (${(g.totalMemoryBytes / GIB).toFixed(1)} GiB)`).join(', ')
    return { check: { id: 'gpu', level: 'ok', summary: `GPU visible to PyTorch ${result.torch.version ?? ''}: ${list}`, fix: null }, gpus }
  }
  if (result.torch.mps) {
    return { check: { id: 'gpu', level: 'ok', summary: 'Apple GPU (MPS) visible to PyTorch', fix: null }, gpus }
  }
  const cudaNote = result.torch.cuda == null ? ' (this PyTorch build has no CUDA support)' : ''
  const restricted = config.cudaVisibleDevices != null ? ` with CUDA_VISIBLE_DEVICES=${config.cudaVisibleDevices}` : ''
  return {
    check: {
      id: 'gpu',
      level: config.numBlocks != null ? 'warn' : 'error',
      summary: `No GPU visible to PyTorch${restricted}${cudaNote}`,
      fix: 'Install the NVIDIA driver (nvidia-smi must work) and a CUDA build of PyTorch; check petals.cudaVisibleDevices. A CPU-only server needs petals.numBlocks and is very slow'
    },
    gpus
  }
}

async function modelCheck (opts: PreflightOptions, gpus: GpuInfo[]): Promise<{ check: PreflightCheck, metadata: ModelMetadata | null }> {
  const { config } = opts
  try {
    const metadata = await loadModelMetadata(config.model, {
      revision: config.revision,
      cacheDirs: [config.cacheDir],
      env: { ...process.env, ...opts.env },
      allowDownload: opts.allowDownload ?? false,
      fetch: opts.fetch,
      token: opts.token
    })
    const memory = blockMemory(metadata, { torchDtype: config.torchDtype, quantType: config.quantType })
    const dtype = resolveTorchDtype(metadata, config.torchDtype)
    const quant = resolveQuantType(config.quantType, gpus.length > 0)
    const capacity = nodeCapacity(metadata, config, gpus[0]?.totalMemoryBytes ?? null)
    const fits = capacity.source === 'unknown' ? '' : `; this node can hold ${capacity.blocks} blocks (from ${capacity.source})`
    const prefix = metadata.defaultDhtPrefix != null ? `, DHT prefix ${metadata.defaultDhtPrefix}` : ''
    return {
      check: {
        id: 'model',
        level: capacity.source !== 'unknown' && capacity.blocks === 0 ? 'error' : 'ok',
        summary: `${metadata.model}: ${metadata.modelType}, ${metadata.numBlocks} blocks${prefix}; ~${(memory.totalBytes / GIB).toFixed(2)} GiB per block in ${dtype}${quant === 'none' ? '' : `/${quant}`}${fits}`,
        fix: capacity.source !== 'unknown' && capacity.blocks === 0 ? 'Not even one block fits: use petals.quantType "nf4", a smaller model, or a larger GPU' : null
      },
      metadata
    }
  } catch (err) {
    if (err instanceof PetalsBridgeError) return { check: { id: 'model', level: 'error', summary: err.message, fix: err.hint }, metadata: null }
    throw err
  }
}

/** Run every check; never throws for a failed check (it is reported). */
export async function runPreflight (opts: PreflightOptions): Promise<PreflightReport> {
  const checks: PreflightCheck[] = []
  const { result, error, missing } = await probe(opts)
  let gpus: GpuInfo[] = []
  if (result == null) {
    checks.push(missing
      ? { id: 'python', level: 'error', summary: `Python not found: "${opts.config.python}"`, fix: 'Install Python 3.8-3.11 and set petals.python to its path (e.g. /usr/bin/python3 or a venv\'s bin/python)' }
      : { id: 'python', level: 'error', summary: `Running ${opts.config.python} failed: ${error ?? 'unknown error'}`, fix: 'Check that petals.python is a working Python interpreter' })
  } else {
    checks.push(pythonCheck(opts.config.python, result.python.version))
    checks.push(petalsCheck(result))
    const gpu = gpuCheck(result, opts.config)
    checks.push(gpu.check)
    gpus = gpu.gpus
  }
  let metadata: ModelMetadata | null = null
  if ((opts.checkModel ?? true) && opts.config.model !== '') {
    const model = await modelCheck(opts, gpus)
    checks.push(model.check)
    metadata = model.metadata
  }
  return {
    ok: checks.every((c) => c.level !== 'error'),
    checks,
    pythonVersion: result?.python.version ?? null,
    petalsVersion: result != null && result.petals.ok ? result.petals.version : null,
    gpus,
    metadata
  }
}

/** Human-readable report, one check per line with its fix. */
export function formatPreflight (report: PreflightReport): string {
  const mark = { ok: '✓', warn: '!', error: '✗' } as const
  const lines: string[] = []
  for (const check of report.checks) {
    lines.push(`${mark[check.level]} ${check.id.padEnd(6)} ${check.summary}`)
    if (check.fix != null) lines.push(`         fix: ${check.fix}`)
  }
  lines.push(report.ok ? 'Ready to share this GPU with Petals.' : 'Not ready: fix the problems above.')
  return lines.join('\n')
}
