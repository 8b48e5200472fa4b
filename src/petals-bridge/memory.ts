// Per-block memory and node capacity, following Petals' Server._choose_num_blocks and
// server/block_utils.py (get_block_size, resolve_block_dtype).

import type { ModelMetadata } from './model-metadata.ts'

export type TorchDtype = 'bfloat16' | 'float16' | 'float32'
export type QuantType = 'none' | 'int8' | 'nf4'

const GIB = 1024 ** 3

/** `auto` takes config.json's dtype unless it is float32 or missing, in which case bfloat16. */
export function resolveTorchDtype (meta: Pick<ModelMetadata, 'configTorchDtype'>, dtype: TorchDtype | 'auto'): TorchDtype {
  if (dtype !== 'auto') return dtype
  const configured = meta.configTorchDtype
  if (configured === 'bfloat16' || configured === 'float16') return configured
  return 'bfloat16'
}

/** `auto` is Petals' default: nf4 on a CUDA GPU, none otherwise. */
export function resolveQuantType (quant: QuantType | 'auto', onGpu = true): QuantType {
  if (quant !== 'auto') return quant
  return onGpu ? 'nf4' : 'none'
}

export function dtypeBytes (dtype: TorchDtype): number {
  return dtype === 'float32' ? 4 : 2
}

export interface BlockMemory {
  /** Weights of one block after quantization (+1% for metadata, as Petals counts). */
  weightBytes: number
  /** Attention (KV) cache reserved per block. */
  cacheBytes: number
  totalBytes: number
}

export interface BlockMemoryOptions {
  torchDtype: TorchDtype | 'auto'
  quantType: QuantType | 'auto'
  /** --attn_cache_tokens; default 16384 for multi-query/GQA models, 4096 otherwise. */
  attnCacheTokens?: number
}

export function blockMemory (meta: ModelMetadata, opts: BlockMemoryOptions): BlockMemory {
  const dtype = resolveTorchDtype(meta, opts.torchDtype)
  const quant = resolveQuantType(opts.quantType)
  const bytesPerValue = quant === 'nf4' ? 4.25 / 8 : quant === 'int8' ? 1 : dtypeBytes(dtype)
  const weightBytes = Math.round(meta.paramsPerBlock * bytesPerValue * 1.01)
  const tokens = opts.attnCacheTokens ?? (meta.numKeyValueGroups > 1 ? 16384 : 4096)
  const cacheValues = Math.floor(2 * meta.hiddenSize * tokens / meta.numKeyValueGroups)
  const cacheBytes = cacheValues * dtypeBytes(dtype)
  return { weightBytes, cacheBytes, totalBytes: weightBytes + cacheBytes }
}

/** Memory Petals sets aside for backward passes: 2 GiB for BLOOM-176B's hidden size, proportional otherwise. */
export function autogradReserveBytes (meta: Pick<ModelMetadata, 'hiddenSize'>, devices = 1): number {
  return 2 * GIB * devices / 14336 * meta.hiddenSize
}

/** Blocks that fit in `vramBytes` of GPU memory (0 if not even one), capped at the model's block count. */
export function blocksThatFit (meta: ModelMetadata, vramBytes: number, opts: BlockMemoryOptions): number {
  const { totalBytes } = blockMemory(meta, opts)
  const blocks = Math.floor((vramBytes - autogradReserveBytes(meta)) / totalBytes)
  return Math.max(0, Math.min(blocks, meta.numBlocks))
}

export interface CapacityInput {
  numBlocks: number | null
  vramGb: number | null
  torchDtype: TorchDtype | 'auto'
  quantType: QuantType | 'auto'
}

export interface Capacity {
  blocks: number
  source: 'numBlocks' | 'vramGb' | 'detected' | 'unknown'
}

/**
 * How many contiguous blocks this node can hold: petals.numBlocks if set, else what fits in petals.vramGb,
 * else in the detected GPU memory (total memory, like Petals: set numBlocks when the GPU is shared).
 */
export function nodeCapacity (meta: ModelMetadata, config: CapacityInput, detectedVramBytes: number | null = null): Capacity {
  const opts = { torchDtype: config.torchDtype, quantType: config.quantType }
  if (config.numBlocks != null) return { blocks: Math.min(config.numBlocks, meta.numBlocks), source: 'numBlocks' }
  if (config.vramGb != null) return { blocks: blocksThatFit(meta, config.vramGb * GIB, opts), source: 'vramGb' }
  if (detectedVramBytes != null) return { blocks: blocksThatFit(meta, detectedVramBytes, opts), source: 'detected' }
  return { blocks: 0, source: 'unknown' }
}
