import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { parsePetalsConfig, petalsConfigSchema } from '../../src/petals-bridge/index.ts'

describe('petalsConfigSchema', () => {
  it('defaults every field', () => {
    const config = parsePetalsConfig({})
    expect(config).toMatchObject({
      backend: 'petals',
      python: 'python3',
      model: '',
      dhtPrefix: null,
      port: 31330,
      publicIp: null,
      announceMaddrs: [],
      torchDtype: 'auto',
      quantType: 'auto',
      throughput: 'auto',
      cacheDir: null,
      maxDiskSpace: null,
      adapters: [],
      token: null,
      numBlocks: null,
      vramGb: null,
      cudaVisibleDevices: null,
      restart: { backoffBaseMs: 2000, backoffMaxMs: 120000, maxRestarts: 5, windowMs: 600000 },
      stopGraceMs: 30000,
      stuckDownloadRetries: 3,
      logFile: { maxBytes: 10 * 1024 * 1024, maxFiles: 5 },
      extraArgs: []
    })
    expect(parsePetalsConfig({ restart: { maxRestarts: 1 } }).restart).toEqual({ backoffBaseMs: 2000, backoffMaxMs: 120000, maxRestarts: 1, windowMs: 600000 })
  })

  it('describes every field (for the README and config docs)', () => {
    const shape = petalsConfigSchema.shape
    for (const [key, field] of Object.entries(shape)) {
      expect(z.globalRegistry.get(field as z.ZodType)?.description, key).toBeTruthy()
      expect((field as z.ZodType).safeParse(undefined).success, `${key} has a default`).toBe(true)
    }
  })

  it('takes the token from a file or an environment variable, never as a literal', () => {
    expect(parsePetalsConfig({ token: { file: '/etc/petalmesh/hf-token' } }).token).toEqual({ file: '/etc/petalmesh/hf-token' })
    expect(parsePetalsConfig({ token: { env: 'HF_TOKEN' } }).token).toEqual({ env: 'HF_TOKEN' })
    expect(() => parsePetalsConfig({ token: 'hf_abcdefghijklmnopqrstuvwxyz' })).toThrow()
    expect(() => parsePetalsConfig({ token: { env: 'hf_abcdefghijklmnopqrstuvwxyz0123' } })).toThrow(/looks like a Hugging Face token/)
    expect(() => parsePetalsConfig({ token: { value: 'x' } })).toThrow()
  })

  it('validates values', () => {
    expect(() => parsePetalsConfig({ port: 0 })).toThrow()
    expect(() => parsePetalsConfig({ publicIp: 'example.com' })).toThrow()
    expect(() => parsePetalsConfig({ maxDiskSpace: 'lots' })).toThrow(/50GB/)
    expect(parsePetalsConfig({ maxDiskSpace: '100GiB', throughput: 1234.5 })).toMatchObject({ maxDiskSpace: '100GiB', throughput: 1234.5 })
    expect(() => parsePetalsConfig({ throughput: 'dry_run' })).toThrow()
    expect(() => parsePetalsConfig({ quantType: 'fp8' })).toThrow()
  })
})
