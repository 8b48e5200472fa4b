import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  blockMemory,
  blocksThatFit,
  defaultDhtPrefix,
  dhtPrefixProblem,
  InvalidPetalsCommandError,
  loadModelMetadata,
  ModelConfigError,
  nodeCapacity,
  resolveDhtPrefix,
  resolveTorchDtype,
  UnsupportedModelError
} from '../../src/petals-bridge/index.ts'
import { HUB, TINY_LLAMA_DIR, tempDir } from './helpers.ts'

const GIB = 1024 ** 3
// Only the fixtures: never the user's real caches, never the network.
const offline = { env: { HF_HUB_CACHE: HUB }, homeDir: '/nonexistent-home', allowDownload: false }

describe('model metadata from config.json', () => {
  it.each([
    ['bigscience/bloom-560m', 'bloom', 24, 'bigscience/bloom-560m-petals'],
    ['bigscience/bloom', 'bloom', 70, 'bigscience/bloom-petals'],
    ['bigscience/bloom-petals', 'bloom', 70, 'bigscience/bloom-petals'],
    ['meta-llama/Meta-Llama-3.1-405B-Instruct', 'llama', 126, 'Meta-Llama-3-1-405B-Instruct-hf'],
    ['meta-llama/Llama-2-70b-hf', 'llama', 80, 'Llama-2-70b-hf'],
    ['tiiuae/falcon-40b', 'falcon', 60, 'falcon-40b'],
    ['mistralai/Mixtral-8x22B-Instruct-v0.1', 'mixtral', 56, 'mistralai/Mixtral-8x22B-Instruct-v0-1']
  ])('%s: %s, %i blocks, prefix %s', async (model, type, blocks, prefix) => {
    const meta = await loadModelMetadata(model, offline)
    expect(meta.modelType).toBe(type)
    expect(meta.numBlocks).toBe(blocks)
    expect(meta.defaultDhtPrefix).toBe(prefix)
    expect(meta.source).toBe('hf-cache')
    expect(meta.configPath).toContain(join('snapshots'))
    expect(meta.isLocalDir).toBe(false)
  })

  it('refuses a model family Petals does not serve, before anything starts', async () => {
    const err = await loadModelMetadata('mistralai/Mistral-7B-v0.1', offline).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnsupportedModelError)
    expect((err as UnsupportedModelError).modelType).toBe('mistral')
    expect((err as Error).message).toMatch(/Petals does not support model type "mistral".*bloom, llama, falcon and mixtral/)
  })

  it('reads a local model directory, which has no default DHT prefix', async () => {
    const meta = await loadModelMetadata(TINY_LLAMA_DIR, offline)
    expect(meta).toMatchObject({ modelType: 'llama', numBlocks: 22, isLocalDir: true, source: 'local-dir', defaultDhtPrefix: null, model: TINY_LLAMA_DIR })
    expect(() => resolveDhtPrefix(null, meta.defaultDhtPrefix, meta.model)).toThrow(InvalidPetalsCommandError)
    expect(resolveDhtPrefix('tiny-llama-hf', meta.defaultDhtPrefix, meta.model)).toBe('tiny-llama-hf')
  })

  it('says where it looked when config.json is not cached', async () => {
    const err = await loadModelMetadata('someone/not-cached', offline).catch((e: unknown) => e) as ModelConfigError
    expect(err).toBeInstanceOf(ModelConfigError)
    expect(err.searched.some((p) => p.startsWith(HUB))).toBe(true)
    expect(err.hint).toMatch(/huggingface-cli download someone\/not-cached config.json/)
  })

  it('refuses an empty model name and nonsense names', async () => {
    await expect(loadModelMetadata('', offline)).rejects.toThrow(/No model configured/)
    await expect(loadModelMetadata('not a repo!', offline)).rejects.toThrow(/neither an existing directory nor a Hugging Face repo id/)
  })

  it('finds a snapshot through refs/<revision>, and without refs', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const root = join(dir, 'models--org--model')
      mkdirSync(join(root, 'refs'), { recursive: true })
      mkdirSync(join(root, 'snapshots', 'aaa'), { recursive: true })
      mkdirSync(join(root, 'snapshots', 'bbb'), { recursive: true })
      const cfg = (layers: number): string => JSON.stringify({ model_type: 'llama', num_hidden_layers: layers, hidden_size: 64, num_attention_heads: 4, intermediate_size: 128 })
      writeFileSync(join(root, 'snapshots', 'aaa', 'config.json'), cfg(3))
      writeFileSync(join(root, 'snapshots', 'bbb', 'config.json'), cfg(5))
      writeFileSync(join(root, 'refs', 'v2'), 'bbb')
      writeFileSync(join(root, 'refs', 'main'), 'aaa')
      const opts = { env: {}, homeDir: '/nonexistent-home', cacheDirs: [dir] }
      expect((await loadModelMetadata('org/model', opts)).numBlocks).toBe(3)
      expect((await loadModelMetadata('org/model', { ...opts, revision: 'v2' })).numBlocks).toBe(5)
      expect((await loadModelMetadata('org/model', { ...opts, revision: 'bbb' })).numBlocks).toBe(5)
    } finally {
      cleanup()
    }
  })

  it('can fetch config.json from the Hub through an injected fetch (never in tests for real)', async () => {
    const calls: Array<{ url: string, headers?: Record<string, string> }> = []
    const meta = await loadModelMetadata('acme/llama-mini', {
      env: { HF_ENDPOINT: 'https://hub.example' },
      homeDir: '/nonexistent-home',
      allowDownload: true,
      token: 'secret-token',
      fetch: async (url, init) => {
        calls.push({ url, headers: init?.headers })
        return { ok: true, status: 200, text: async () => JSON.stringify({ model_type: 'llama', num_hidden_layers: 7, hidden_size: 64, num_attention_heads: 4, intermediate_size: 128 }) }
      }
    })
    expect(meta).toMatchObject({ source: 'download', numBlocks: 7, defaultDhtPrefix: 'llama-mini-hf' })
    expect(calls).toEqual([{ url: 'https://hub.example/acme/llama-mini/resolve/main/config.json', headers: { authorization: 'Bearer secret-token' } }])
    const gated = loadModelMetadata('acme/gated', {
      env: {}, homeDir: '/nonexistent-home', allowDownload: true,
      fetch: async () => ({ ok: false, status: 401, text: async () => '' })
    })
    await expect(gated).rejects.toThrow(/HTTP 401/)
  })
})

describe('DHT prefixes (Petals models/*/config.py)', () => {
  it('follows each family\'s rule', () => {
    expect(defaultDhtPrefix('bloom', 'bigscience/bloom-7b1')).toBe('bigscience/bloom-7b1-petals')
    expect(defaultDhtPrefix('bloom', 'bigscience/bloomz-petals')).toBe('bigscience/bloomz-petals')
    expect(defaultDhtPrefix('llama', 'meta-llama/Meta-Llama-3.1-405B-Instruct')).toBe('Meta-Llama-3-1-405B-Instruct-hf')
    expect(defaultDhtPrefix('llama', 'enoch/llama-65b-hf')).toBe('llama-65b-hf')
    expect(defaultDhtPrefix('falcon', 'tiiuae/falcon-180B')).toBe('falcon-180B')
    expect(defaultDhtPrefix('mixtral', 'mistralai/Mixtral-8x22B-Instruct-v0.1')).toBe('mistralai/Mixtral-8x22B-Instruct-v0-1')
  })

  it('rejects "." and spaces like Petals does, and allows "/" and a leading "_"', () => {
    expect(dhtPrefixProblem('my.model')).toMatch(/contains "\."/)
    expect(dhtPrefixProblem('my model')).toMatch(/contains a space/)
    expect(dhtPrefixProblem('org/model-hf')).toBeNull()
    expect(dhtPrefixProblem('_private-model')).toBeNull()
    expect(() => resolveDhtPrefix('a.b', 'x', 'm')).toThrow(/Petals refuses the DHT prefix "a.b" contains "."/)
  })
})

describe('block memory and capacity (Server._choose_num_blocks)', () => {
  it('counts parameters per block like the real architectures', async () => {
    const params = async (model: string): Promise<number> => (await loadModelMetadata(model, offline)).paramsPerBlock
    // 70 BLOOM blocks ~ 172.6B of BLOOM-176B (the rest is embeddings)
    expect((await params('bigscience/bloom')) * 70 / 1e9).toBeCloseTo(172.6, 0)
    // Llama 3.1 405B: 126 blocks of ~3.19B
    expect((await params('meta-llama/Meta-Llama-3.1-405B-Instruct')) / 1e9).toBeCloseTo(3.19, 2)
    // Mixtral 8x22B: 56 blocks ~ 140B of 141B
    expect((await params('mistralai/Mixtral-8x22B-Instruct-v0.1')) * 56 / 1e9).toBeCloseTo(140.2, 0)
    // Falcon 40B: 60 blocks ~ 40.7B
    expect((await params('tiiuae/falcon-40b')) * 60 / 1e9).toBeCloseTo(40.7, 0)
  })

  it('sizes weights by dtype and quantization, and the KV cache like Petals', async () => {
    const meta = await loadModelMetadata('meta-llama/Meta-Llama-3.1-405B-Instruct', offline)
    const bf16 = blockMemory(meta, { torchDtype: 'auto', quantType: 'none' })
    const nf4 = blockMemory(meta, { torchDtype: 'auto', quantType: 'nf4' })
    const int8 = blockMemory(meta, { torchDtype: 'auto', quantType: 'int8' })
    expect(bf16.weightBytes / GIB).toBeCloseTo(6.0, 1)
    expect(int8.weightBytes / bf16.weightBytes).toBeCloseTo(0.5, 3)
    expect(nf4.weightBytes / bf16.weightBytes).toBeCloseTo(4.25 / 16, 3)
    // GQA (128/8 heads): 16384 cache tokens, 2 * hidden * tokens / groups values in bf16
    expect(bf16.cacheBytes).toBe(2 * 16384 * 16384 / 16 * 2)
    expect(resolveTorchDtype(meta, 'auto')).toBe('bfloat16')
    const llama2 = await loadModelMetadata('meta-llama/Llama-2-70b-hf', offline)
    expect(resolveTorchDtype(llama2, 'auto')).toBe('float16')
    const bloom = await loadModelMetadata('bigscience/bloom', offline)
    expect(blockMemory(bloom, { torchDtype: 'auto', quantType: 'none' }).cacheBytes).toBe(2 * 14336 * 4096 * 2)
  })

  it('derives a node\'s capacity from numBlocks, vramGb or the detected GPU', async () => {
    const meta = await loadModelMetadata('meta-llama/Meta-Llama-3.1-405B-Instruct', offline)
    const base = { torchDtype: 'auto' as const, quantType: 'auto' as const }
    expect(nodeCapacity(meta, { ...base, numBlocks: 500, vramGb: 80 })).toEqual({ blocks: 126, source: 'numBlocks' })
    const fromVram = nodeCapacity(meta, { ...base, numBlocks: null, vramGb: 80 })
    expect(fromVram.source).toBe('vramGb')
    // nf4 block ~1.59 GiB + 64 MiB KV cache; 80 GiB minus ~2.29 GiB autograd reserve -> 46 blocks
    expect(fromVram.blocks).toBe(46)
    expect(nodeCapacity(meta, { ...base, numBlocks: null, vramGb: null }, 24 * GIB).source).toBe('detected')
    expect(nodeCapacity(meta, { ...base, numBlocks: null, vramGb: null })).toEqual({ blocks: 0, source: 'unknown' })
    expect(blocksThatFit(meta, 2 * GIB, { torchDtype: 'auto', quantType: 'none' })).toBe(0)
  })
})
