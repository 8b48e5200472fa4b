// Client bridge: generate text through the swarm with Petals' own client
// (AutoDistributedModelForCausalLM.from_pretrained(model, initial_peers=<from the mesh>)), streamed back.

import { tmpdir } from 'node:os'
import { execa } from 'execa'
import { GenerateError } from './errors.ts'
import { classifyFailureText } from './failures.ts'
import { LineSplitter } from './line-splitter.ts'
import { localModelDir } from './model-metadata.ts'
import { GENERATE_SCRIPT } from './python-scripts.ts'

export interface GenerateOptions {
  python: string
  /** Repo id or local directory (a local directory also needs dhtPrefix). */
  model: string
  prompt: string
  /** Hivemind multiaddrs of online Petals servers, from the mesh. */
  initialPeers: string[]
  dhtPrefix?: string | null
  maxNewTokens?: number
  /** 0 = greedy decoding. */
  temperature?: number
  /** Hugging Face token (passed as HF_TOKEN, never in argv). */
  token?: string | null
  env?: Record<string, string | undefined>
  timeoutMs?: number
  signal?: AbortSignal
}

const INSTALL_HINT = 'Install Petals for this Python: pip install git+https://github.com/bigscience-workshop/petals (or set --python / petals.python to the Python that has it)'

function errorFor (kind: string, error: string, message: string): GenerateError {
  if (kind === 'petals-missing') {
    return new GenerateError('petals-missing', `Petals is not installed (${error}: ${message})`, INSTALL_HINT)
  }
  if (error === 'MissingBlocksError' || /No servers holding blocks/.test(message)) {
    return new GenerateError('missing-blocks', `Some blocks of the model are not served by any online server: ${message.split(' You can check')[0]}`,
      'Wait until the mesh covers every block (petalmesh status), or start more nodes serving this model')
  }
  const failure = classifyFailureText(`${error}: ${message}`)
  if (failure != null) return new GenerateError(failure.kind, failure.message, failure.hint)
  return new GenerateError('error', `${error}: ${message}`, 'See the message above; run "petalmesh doctor" to check the Python side')
}

/** Stream generated text chunks. Throws GenerateError with a kind and a hint on failure. */
export async function * generate (opts: GenerateOptions): AsyncGenerator<string, void, void> {
  if (opts.initialPeers.length === 0) {
    throw new GenerateError('no-peers', 'No online Petals server is known for this model', 'Start petalmesh nodes serving the model, wait until they are online, or pass --initial-peers')
  }
  const localDir = localModelDir(opts.model)
  if (localDir != null && (opts.dhtPrefix == null || opts.dhtPrefix === '')) {
    throw new GenerateError('invalid-arguments', `${opts.model} is a local directory, so the DHT prefix cannot be derived`, 'Pass --dht-prefix with the prefix the servers use')
  }
  const request = {
    model: localDir ?? opts.model,
    prompt: opts.prompt,
    initialPeers: opts.initialPeers,
    dhtPrefix: opts.dhtPrefix ?? null,
    maxNewTokens: opts.maxNewTokens ?? 64,
    temperature: opts.temperature ?? 0
  }
  const env: Record<string, string | undefined> = { ...opts.env, HIVEMIND_COLORS: '0', PYTHONUNBUFFERED: '1' }
  if (opts.token != null && opts.token !== '') {
    env.HF_TOKEN = opts.token
    env.HUGGING_FACE_HUB_TOKEN = opts.token
  }
  const child = execa(opts.python, [GENERATE_SCRIPT], {
    cwd: tmpdir(),
    env,
    extendEnv: true,
    input: JSON.stringify(request),
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: { stdout: false, stderr: true },
    reject: false,
    timeout: opts.timeoutMs,
    cancelSignal: opts.signal,
    encoding: 'utf8'
  })
  const splitter = new LineSplitter()
  let failure: GenerateError | null = null
  let done = false
  const stdout = child.stdout
  if (stdout == null) throw new GenerateError('error', 'no output stream', 'internal error')
  try {
    for await (const chunk of stdout) {
      for (const line of splitter.push(chunk as Buffer)) {
        if (!line.startsWith('{')) continue
        let msg: { type?: string, text?: string, kind?: string, error?: string, message?: string }
        try {
          msg = JSON.parse(line)
        } catch {
          continue
        }
        if (msg.type === 'token' && typeof msg.text === 'string') yield msg.text
        else if (msg.type === 'done') done = true
        else if (msg.type === 'error') failure = errorFor(msg.kind ?? 'exception', msg.error ?? 'Error', msg.message ?? '')
      }
    }
  } finally {
    if (!done && failure == null) child.kill('SIGINT')
  }
  const result = await child
  if (failure != null) throw failure
  if (!done) {
    const code = (result as unknown as { code?: string }).code
    if (code === 'ENOENT' || /ENOENT/.test(String(result.message))) {
      throw new GenerateError('python-missing', `Python not found: "${opts.python}"`, INSTALL_HINT)
    }
    const stderr = String(result.stderr ?? '').trim().split('\n').slice(-3).join(' | ')
    throw new GenerateError('error', `The generation script ended without a result (exit ${String(result.exitCode ?? result.signal)}): ${stderr}`, 'Run "petalmesh doctor" to check the Python side')
  }
}
