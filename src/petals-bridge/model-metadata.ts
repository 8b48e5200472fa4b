// Model metadata from a Hugging Face config.json: block count, family, default DHT prefix and the
// architecture numbers the memory estimate needs. Mirrors Petals' src/petals/models/*/config.py.

import { readFileSync, statSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { ModelConfigError, UnsupportedModelError } from './errors.ts'
import { findCachedConfig, hubCacheDirs } from './hf-cache.ts'
import { defaultDhtPrefix } from './dht-prefix.ts'

export const SUPPORTED_MODEL_TYPES = ['bloom', 'llama', 'falcon', 'mixtral'] as const
export type ModelFamily = typeof SUPPORTED_MODEL_TYPES[number]

export interface ModelMetadata {
  /** The model as Petals should be given it: a repo id, or an absolute local directory. */
  model: string
  isLocalDir: boolean
  /** Where config.json came from. */
  source: 'local-dir' | 'hf-cache' | 'download' | 'inline'
  configPath: string | null
  modelType: ModelFamily
  /** Transformer blocks (num_hidden_layers, n_layer for BLOOM): block indices are 0..numBlocks-1. */
  numBlocks: number
  /** Petals' derived DHT prefix; null for a local directory (an explicit prefix is then required). */
  defaultDhtPrefix: string | null
  hiddenSize: number
  /** Attention heads per KV head as Petals counts it (1 for BLOOM and Mixtral). */
  numKeyValueGroups: number
  /** Parameters of one transformer block. */
  paramsPerBlock: number
  /** config.json's torch_dtype, if any. */
  configTorchDtype: string | null
}

/** Petals pins these revisions of TII's Falcon repos (utils/auto_config.py: DefaultRevisionMixin). */
export const FALCON_DEFAULT_REVISIONS: Readonly<Record<string, string>> = {
  'tiiuae/falcon-40b': 'f1ba7d328c06aa6fbb4a8afd3c756f46d7e6b232',
  'tiiuae/falcon-40b-instruct': '7475ff8cfc36ed9a962b658ae3c33391566a85a5',
  'tiiuae/falcon-7b': '4e2d06f0a7c6370ebabbc30c6f59377ae8f73d76',
  'tiiuae/falcon-7b-instruct': 'f8dac3fff96d5debd43edf56fb4e1abcfffbef28'
}

const repoIdPattern = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/

/** A model given as an existing directory (absolute or relative to `cwd`) is loaded from disk by Petals. */
export function localModelDir (model: string, cwd = process.cwd()): string | null {
  if (model === '') return null
  const path = isAbsolute(model) ? model : resolve(cwd, model)
  try {
    return statSync(path).isDirectory() ? path : null
  } catch {
    return null
  }
}

type Json = Record<string, unknown>

function num (raw: Json, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = raw[key]
    if (typeof value === 'number' && Number.isFinite(value)) return value
  }
  return undefined
}

function bool (raw: Json, key: string, fallback: boolean): boolean {
  const value = raw[key]
  return typeof value === 'boolean' ? value : fallback
}

function required (model: string, raw: Json, ...keys: string[]): number {
  const value = num(raw, ...keys)
  if (value == null || value <= 0) {
    throw new ModelConfigError(model, `config.json of ${model} has no ${keys.join(' / ')}`,
      'The file is incomplete or not a transformers model config; check the model name or directory')
  }
  return value
}

interface Architecture { numBlocks: number, hiddenSize: number, groups: number, params: number }

function llamaAttention (raw: Json, h: number, heads: number, kvHeads: number): number {
  const headDim = num(raw, 'head_dim') ?? h / heads
  const bias = bool(raw, 'attention_bias', false)
  return h * heads * headDim + 2 * h * kvHeads * headDim + heads * headDim * h +
    (bias ? heads * headDim + 2 * kvHeads * headDim + h : 0)
}

function architecture (model: string, family: ModelFamily, raw: Json): Architecture {
  switch (family) {
    case 'bloom': {
      const h = required(model, raw, 'hidden_size', 'n_embed')
      return { numBlocks: required(model, raw, 'n_layer', 'num_hidden_layers'), hiddenSize: h, groups: 1, params: 12 * h * h + 13 * h }
    }
    case 'llama': {
      const h = required(model, raw, 'hidden_size')
      const heads = required(model, raw, 'num_attention_heads')
      const kvHeads = num(raw, 'num_key_value_heads') ?? heads
      const ffn = required(model, raw, 'intermediate_size')
      const mlp = 3 * h * ffn + (bool(raw, 'mlp_bias', false) ? 2 * ffn + h : 0)
      return {
        numBlocks: required(model, raw, 'num_hidden_layers'),
        hiddenSize: h,
        groups: Math.max(1, Math.floor(heads / kvHeads)),
        params: llamaAttention(raw, h, heads, kvHeads) + mlp + 2 * h
      }
    }
    case 'mixtral': {
      const h = required(model, raw, 'hidden_size')
      const heads = required(model, raw, 'num_attention_heads')
      const kvHeads = num(raw, 'num_key_value_heads') ?? heads
      const ffn = required(model, raw, 'intermediate_size')
      const experts = num(raw, 'num_local_experts') ?? 8
      return {
        numBlocks: required(model, raw, 'num_hidden_layers'),
        hiddenSize: h,
        groups: 1, // Petals' DistributedMixtralConfig hard-codes num_key_value_groups = 1
        params: llamaAttention(raw, h, heads, kvHeads) + h * experts + experts * 3 * h * ffn + 2 * h
      }
    }
    case 'falcon': {
      const h = required(model, raw, 'hidden_size')
      const heads = required(model, raw, 'num_attention_heads', 'n_head')
      const headDim = h / heads
      const newArch = bool(raw, 'new_decoder_architecture', false)
      const multiQuery = bool(raw, 'multi_query', true)
      const kvHeads = newArch ? (num(raw, 'num_kv_heads') ?? heads) : (multiQuery ? 1 : heads)
      const ffn = num(raw, 'ffn_hidden_size') ?? 4 * h
      const qkvOut = newArch ? (heads + 2 * kvHeads) * headDim : (multiQuery ? h + 2 * headDim : 3 * h)
      const bias = bool(raw, 'bias', false)
      const parallel = bool(raw, 'parallel_attn', true)
      const layerNorms = newArch ? (num(raw, 'num_ln_in_parallel_attn') ?? 2) : (parallel ? 1 : 2)
      const params = h * qkvOut + h * h + 2 * h * ffn + layerNorms * 2 * h + (bias ? qkvOut + h + ffn + h : 0)
      const groups = newArch ? Math.max(1, Math.floor(heads / kvHeads)) : (multiQuery ? heads : 1)
      return { numBlocks: required(model, raw, 'num_hidden_layers', 'n_layer'), hiddenSize: h, groups, params }
    }
  }
}

export interface ModelSource {
  source: ModelMetadata['source']
  configPath: string | null
  isLocalDir: boolean
}

/** Build metadata from a parsed config.json. Throws UnsupportedModelError for families Petals does not serve. */
export function parseModelConfig (model: string, config: unknown, from: ModelSource): ModelMetadata {
  if (config == null || typeof config !== 'object' || Array.isArray(config)) {
    throw new ModelConfigError(model, `config.json of ${model} is not a JSON object`, 'Check that the file is a transformers model config')
  }
  const raw = config as Json
  const modelType = typeof raw.model_type === 'string' ? raw.model_type : ''
  if (!(SUPPORTED_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new UnsupportedModelError(model, modelType === '' ? '(none)' : modelType)
  }
  const family = modelType as ModelFamily
  const arch = architecture(model, family, raw)
  return {
    model,
    isLocalDir: from.isLocalDir,
    source: from.source,
    configPath: from.configPath,
    modelType: family,
    numBlocks: arch.numBlocks,
    defaultDhtPrefix: from.isLocalDir ? null : defaultDhtPrefix(family, model),
    hiddenSize: arch.hiddenSize,
    numKeyValueGroups: arch.groups,
    paramsPerBlock: arch.params,
    configTorchDtype: typeof raw.torch_dtype === 'string' ? raw.torch_dtype : null
  }
}

export type FetchLike = (url: string, init?: { headers?: Record<string, string>, signal?: AbortSignal }) => Promise<{
  ok: boolean
  status: number
  text: () => Promise<string>
}>

export interface LoadModelMetadataOptions {
  revision?: string | null
  /** Searched before the default caches (e.g. the configured Petals cache directory). */
  cacheDirs?: Array<string | null | undefined>
  env?: NodeJS.ProcessEnv
  homeDir?: string
  cwd?: string
  /** Fetch config.json from the Hugging Face Hub when it is not cached (default false). */
  allowDownload?: boolean
  fetch?: FetchLike
  token?: string | null
  timeoutMs?: number
}

function readJson (model: string, path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new ModelConfigError(model, `Cannot read ${path}: ${(err as Error).message}`,
      'The file must be the model\'s JSON config.json', [path], { cause: err })
  }
}

/** The repository name Petals actually loads (`bigscience/X-petals` -> `bigscience/X`, utils/version.py). */
export function compatibleModelRepo (model: string): string {
  const match = /^(bigscience\/.+)-petals$/.exec(model)
  return match == null ? model : match[1]
}

/** Read a model's metadata from a local directory, the Hugging Face cache, or (if allowed) the Hub. */
export async function loadModelMetadata (model: string, opts: LoadModelMetadataOptions = {}): Promise<ModelMetadata> {
  if (model.trim() === '') {
    throw new ModelConfigError(model, 'No model configured', 'Set petals.model to a Hugging Face repo id (e.g. meta-llama/Meta-Llama-3.1-405B-Instruct) or a local model directory')
  }
  const dir = localModelDir(model, opts.cwd)
  if (dir != null) {
    const path = join(dir, 'config.json')
    try {
      statSync(path)
    } catch {
      throw new ModelConfigError(model, `The model directory ${dir} has no config.json`,
        'Point petals.model at a directory holding a transformers model (config.json and weights)', [path])
    }
    return parseModelConfig(dir, readJson(model, path), { source: 'local-dir', configPath: path, isLocalDir: true })
  }
  if (!repoIdPattern.test(model)) {
    throw new ModelConfigError(model, `"${model}" is neither an existing directory nor a Hugging Face repo id`,
      'Use a repo id such as meta-llama/Meta-Llama-3.1-405B-Instruct, or the path of a local model directory')
  }
  const repo = compatibleModelRepo(model)
  const revisions = [opts.revision ?? null, FALCON_DEFAULT_REVISIONS[repo] ?? null]
  const dirs = hubCacheDirs({ env: opts.env, extraDirs: opts.cacheDirs, homeDir: opts.homeDir })
  const found = findCachedConfig(repo, revisions, dirs)
  if (found.path != null) {
    return parseModelConfig(model, readJson(model, found.path), { source: 'hf-cache', configPath: found.path, isLocalDir: false })
  }
  if (opts.allowDownload !== true) {
    throw new ModelConfigError(model, `config.json of ${model} is not in the Hugging Face cache`,
      `Download it once (huggingface-cli download ${repo} config.json) or allow petalmesh to fetch it`, found.searched)
  }
  return parseModelConfig(model, await downloadConfig(model, repo, opts, found.searched), {
    source: 'download', configPath: null, isLocalDir: false
  })
}

async function downloadConfig (model: string, repo: string, opts: LoadModelMetadataOptions, searched: string[]): Promise<unknown> {
  const env = opts.env ?? process.env
  const endpoint = (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')
  const revision = opts.revision ?? FALCON_DEFAULT_REVISIONS[repo] ?? 'main'
  const url = `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/config.json`
  const headers: Record<string, string> = {}
  if (opts.token != null && opts.token !== '') headers.authorization = `Bearer ${opts.token}`
  const doFetch: FetchLike = opts.fetch ?? (globalThis.fetch as unknown as FetchLike)
  let response: Awaited<ReturnType<FetchLike>>
  try {
    response = await doFetch(url, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) })
  } catch (err) {
    throw new ModelConfigError(model, `Cannot fetch ${url}: ${(err as Error).message}`,
      'Check the network connection, or put config.json in the Hugging Face cache', searched, { cause: err })
  }
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403
      ? 'The model is gated or private: accept its licence on huggingface.co and configure petals.token'
      : response.status === 404 ? 'Check the model name (it must be an existing Hugging Face repo)' : 'Try again later'
    throw new ModelConfigError(model, `Fetching ${url} failed with HTTP ${response.status}`, hint, searched)
  }
  const text = await response.text()
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ModelConfigError(model, `${url} is not JSON`, 'Check the model name', searched, { cause: err })
  }
}
