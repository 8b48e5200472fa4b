import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate, GenerateError } from '../../src/petals-bridge/index.ts'
import type { GenerateOptions } from '../../src/petals-bridge/index.ts'
import { freePort, HUB, PYTHON, STANDIN, TINY_LLAMA_DIR } from './helpers.ts'

let server: Server
let peer: string

beforeAll(async () => {
  // Stands for an online Petals server of the mesh: the client "bootstraps" by reaching it.
  server = createServer((socket) => { socket.end() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  peer = `/ip4/127.0.0.1/tcp/${(server.address() as { port: number }).port}/p2p/QmedTaZXmULqwspJXz44SsPZyTNKxhnnFvYRajfH7MGhCY`
})
afterAll(() => { server.close() })

async function collect (opts: Partial<GenerateOptions>, env: Record<string, string> = {}): Promise<string[]> {
  const chunks: string[] = []
  for await (const chunk of generate({
    python: PYTHON,
    model: 'bigscience/bloom-560m',
    prompt: 'A cat',
    initialPeers: [peer],
    env: { PYTHONPATH: STANDIN, HF_HUB_CACHE: HUB, ...env },
    ...opts
  })) chunks.push(chunk)
  return chunks
}

describe('client bridge (petalmesh generate)', () => {
  it.concurrent('streams tokens from AutoDistributedModelForCausalLM', async () => {
    const chunks = await collect({})
    expect(chunks.join('')).toBe(' sat on a mat.')
    expect(chunks.length).toBe(' sat on a mat.'.length)
  })

  it.concurrent('stops at max_new_tokens', async () => {
    expect((await collect({ maxNewTokens: 4 })).join('')).toBe(' sat')
  })

  it.concurrent('needs the DHT prefix for a local model directory', async () => {
    await expect(collect({ model: TINY_LLAMA_DIR })).rejects.toMatchObject({ kind: 'invalid-arguments' })
    expect((await collect({ model: TINY_LLAMA_DIR, dhtPrefix: 'tiny-llama-hf', maxNewTokens: 4 })).join('')).toBe(' sat')
  })

  it.concurrent('says clearly when Petals is not installed', async () => {
    const err = await collect({}, { PYTHONPATH: '' }).catch((e: unknown) => e) as GenerateError
    expect(err).toBeInstanceOf(GenerateError)
    expect(err.kind).toBe('petals-missing')
    expect(err.message).toMatch(/Petals is not installed \(ModuleNotFoundError: No module named 'petals'\)/)
    expect(err.hint).toMatch(/pip install git\+https:\/\/github.com\/bigscience-workshop\/petals/)
  })

  it.concurrent('classifies swarm problems', async () => {
    const dead = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/QmedTaZXmULqwspJXz44SsPZyTNKxhnnFvYRajfH7MGhCY`
    await expect(collect({ initialPeers: [dead] })).rejects.toMatchObject({ kind: 'bootstrap-failed' })
    await expect(collect({}, { PETALS_STANDIN_CLIENT_FAIL: 'missing_blocks' })).rejects.toMatchObject({ kind: 'missing-blocks', message: expect.stringMatching(/No servers holding blocks \[0, 1, 2\] are online/) })
    await expect(collect({ initialPeers: [] })).rejects.toMatchObject({ kind: 'no-peers' })
    await expect(collect({ python: '/nonexistent/python3' })).rejects.toMatchObject({ kind: 'python-missing' })
  })
})
