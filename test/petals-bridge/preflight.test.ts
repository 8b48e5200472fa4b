import { describe, expect, it } from 'vitest'
import { formatPreflight, parsePetalsConfig, runPreflight } from '../../src/petals-bridge/index.ts'
import { HUB, PYTHON, STANDIN } from './helpers.ts'

const env = (extra: Record<string, string> = {}): Record<string, string> => ({ PYTHONPATH: STANDIN, HF_HUB_CACHE: HUB, ...extra })
const config = (over: Record<string, unknown> = {}): ReturnType<typeof parsePetalsConfig> =>
  parsePetalsConfig({ python: PYTHON, model: 'meta-llama/Meta-Llama-3.1-405B-Instruct', ...over })

describe('preflight ("share my GPU" checks)', () => {
  it.concurrent('passes with Python, Petals and a GPU, and sizes the node', async () => {
    const report = await runPreflight({ config: config(), env: env({ PETALS_STANDIN_GPUS: 'NVIDIA A100-SXM4-80GB:80' }), allowDownload: false })
    expect(report.ok).toBe(true)
    expect(report.checks.map((c) => [c.id, c.level])).toEqual([['python', 'ok'], ['petals', 'ok'], ['gpu', 'ok'], ['model', 'ok']])
    expect(report.petalsVersion).toBe('2.3.0.dev2')
    expect(report.pythonVersion).toMatch(/^3\.\d+\.\d+$/)
    expect(report.gpus).toEqual([{ index: 0, name: 'NVIDIA A100-SXM4-80GB', totalMemoryBytes: 80 * 1024 ** 3 }])
    expect(report.checks[3].summary).toMatch(/llama, 126 blocks, DHT prefix Meta-Llama-3-1-405B-Instruct-hf; ~1\.\d\d GiB per block in bfloat16\/nf4; this node can hold 46 blocks \(from detected\)/)
    expect(formatPreflight(report)).toMatch(/✓ python .*\n✓ petals Petals 2\.3\.0\.dev2 importable\n✓ gpu .*NVIDIA A100/)
  })

  it.concurrent('explains a missing GPU and how to fix it, respecting CUDA_VISIBLE_DEVICES', async () => {
    const report = await runPreflight({ config: config({ cudaVisibleDevices: '3' }), env: env({ PETALS_STANDIN_GPUS: 'NVIDIA GeForce RTX 3090:24' }), allowDownload: false })
    expect(report.ok).toBe(false)
    const gpu = report.checks.find((c) => c.id === 'gpu')
    expect(gpu).toMatchObject({ level: 'error' })
    expect(gpu?.summary).toMatch(/No GPU visible to PyTorch with CUDA_VISIBLE_DEVICES=3/)
    expect(gpu?.fix).toMatch(/NVIDIA driver.*CUDA build of PyTorch/)
    expect(formatPreflight(report)).toMatch(/✗ gpu[\s\S]*fix: Install the NVIDIA driver[\s\S]*Not ready/)
  })

  it.concurrent('explains that Petals is not installed for this Python', async () => {
    const report = await runPreflight({ config: config({ model: '' }), env: { PYTHONPATH: '' } })
    const petals = report.checks.find((c) => c.id === 'petals')
    expect(petals?.level).toBe('error')
    expect(petals?.summary).toMatch(/Petals cannot be imported by .*: ModuleNotFoundError: No module named 'petals'/)
    expect(petals?.fix).toMatch(/-m pip install git\+https:\/\/github.com\/bigscience-workshop\/petals/)
  })

  it.concurrent('explains a missing Python', async () => {
    const report = await runPreflight({ config: config({ python: '/nonexistent/bin/python3.11', model: '' }) })
    expect(report.ok).toBe(false)
    expect(report.checks).toEqual([{ id: 'python', level: 'error', summary: 'Python not found: "/nonexistent/bin/python3.11"', fix: expect.stringMatching(/petals.python/) }])
  })

  it.concurrent('reports an unsupported or unknown model with the fix', async () => {
    const bad = await runPreflight({ config: config({ model: 'mistralai/Mistral-7B-v0.1' }), env: env(), allowDownload: false })
    expect(bad.checks.find((c) => c.id === 'model')).toMatchObject({ level: 'error', summary: expect.stringMatching(/does not support model type "mistral"/) })
    const tooSmall = await runPreflight({ config: config({ quantType: 'none' }), env: env({ PETALS_STANDIN_GPUS: 'Tiny GPU:4' }), allowDownload: false })
    expect(tooSmall.checks.find((c) => c.id === 'model')).toMatchObject({ level: 'error', fix: expect.stringMatching(/Not even one block fits/) })
  })
})
