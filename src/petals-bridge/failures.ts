// Classified Petals failures: what went wrong, in words an operator understands, and how to fix it.
// The patterns match the exception messages of Petals @ 22afba62 / hivemind @ 213bff98 (reference §2.6).

export type FailureKind =
  | 'cuda-oom'
  | 'gpu-memory'
  | 'no-gpu'
  | 'bootstrap-failed'
  | 'daemon-failed'
  | 'port-in-use'
  | 'identity-taken'
  | 'unsupported-model'
  | 'model-not-found'
  | 'model-access'
  | 'hub-unreachable'
  | 'stuck-download'
  | 'disk-space'
  | 'reachability'
  | 'unsupported-dtype'
  | 'dependency'
  | 'invalid-arguments'
  | 'invalid-config'
  | 'python-missing'
  | 'killed'
  | 'exited'

export interface Failure {
  kind: FailureKind
  message: string
  hint: string
  /** Restarting cannot help (configuration or hardware problem): go standby at once. */
  permanent: boolean
}

interface FailureInfo { title: string, hint: string, permanent: boolean }

export const FAILURE_INFO: Readonly<Record<FailureKind, FailureInfo>> = {
  'cuda-oom': {
    title: 'CUDA out of memory while loading or serving blocks',
    hint: 'Serve fewer blocks (lower petals.numBlocks or petals.vramGb), quantize (petals.quantType "nf4"), or free the GPU: other processes may be using it (nvidia-smi)',
    permanent: false
  },
  'gpu-memory': {
    title: 'The GPU does not have enough memory to serve even one block of this model',
    hint: 'Use quantization (petals.quantType "nf4"), a smaller model, or a GPU with more memory',
    permanent: true
  },
  'no-gpu': {
    title: 'No GPU is available to Petals',
    hint: 'Install the NVIDIA driver and a CUDA build of PyTorch (python -c "import torch; print(torch.cuda.is_available())"), check petals.cudaVisibleDevices, or set petals.numBlocks to run a (slow) CPU server',
    permanent: true
  },
  'bootstrap-failed': {
    title: 'Could not join the Petals swarm: none of the initial peers answered',
    hint: 'Check that this machine can reach the other servers\' Petals ports (firewall, NAT) and that its clock is in sync (NTP)',
    permanent: false
  },
  'daemon-failed': {
    title: 'The libp2p daemon (p2pd) of the Petals server failed to start',
    hint: 'See the Petals log for p2pd\'s last line; check the network configuration (IPv6 problems are common) and leftover p2pd processes',
    permanent: false
  },
  'port-in-use': {
    title: 'The Petals port is already in use',
    hint: 'Another process (possibly a leftover p2pd) holds petals.port: stop it or choose another port',
    permanent: false
  },
  'identity-taken': {
    title: 'Another peer in the swarm already uses this Petals identity',
    hint: 'A second server is running with the same identity file (a leftover process, or a copied file). Stop it, or delete the identity file so petalmesh generates a new one',
    permanent: false
  },
  'unsupported-model': {
    title: 'Petals does not support this model\'s architecture',
    hint: 'Petals serves bloom, llama, falcon and mixtral models; choose one of those',
    permanent: true
  },
  'model-not-found': {
    title: 'The model was not found',
    hint: 'Check petals.model: it must be an existing Hugging Face repo id or a local directory with config.json and weights',
    permanent: true
  },
  'model-access': {
    title: 'Access to the model was refused (gated or private repository)',
    hint: 'Accept the model\'s licence on huggingface.co with your account and configure petals.token',
    permanent: true
  },
  'hub-unreachable': {
    title: 'The Hugging Face Hub could not be reached',
    hint: 'Check the network connection or proxy settings (HTTPS_PROXY), or pre-download the model into the cache',
    permanent: false
  },
  'stuck-download': {
    title: 'Downloading the model weights keeps failing',
    hint: 'Check the network connection to huggingface.co and the free disk space of the cache directory (petals.cacheDir / petals.maxDiskSpace)',
    permanent: false
  },
  'disk-space': {
    title: 'Not enough disk space to download the model weights',
    hint: 'Free disk space on the cache volume, raise petals.maxDiskSpace, or point petals.cacheDir to a larger disk',
    permanent: false
  },
  reachability: {
    title: 'The server is not reachable from the Internet',
    hint: 'Forward petals.port on your router/firewall and set petals.publicIp, or run in a private swarm',
    permanent: false
  },
  'unsupported-dtype': {
    title: 'float16 is not supported on CPU',
    hint: 'Set petals.torchDtype to "bfloat16" or "float32", or run on a GPU',
    permanent: true
  },
  dependency: {
    title: 'Petals\' Python dependencies have the wrong versions',
    hint: 'Reinstall Petals in a clean virtual environment: pip install --upgrade git+https://github.com/bigscience-workshop/petals',
    permanent: true
  },
  'invalid-arguments': {
    title: 'Petals refused its command-line arguments',
    hint: 'Check petals.* settings and petals.extraArgs (run "petalmesh petals command" to see the exact command)',
    permanent: true
  },
  'invalid-config': {
    title: 'The Petals configuration is invalid',
    hint: 'Fix the petals.* settings (run "petalmesh petals command" to check them)',
    permanent: true
  },
  'python-missing': {
    title: 'The Python executable was not found',
    hint: 'Install Python 3.8-3.11 with Petals (pip install git+https://github.com/bigscience-workshop/petals) and set petals.python to its path',
    permanent: true
  },
  killed: {
    title: 'The Petals server was killed',
    hint: 'Something killed the process (often the kernel\'s out-of-memory killer: check dmesg and the host\'s free RAM)',
    permanent: false
  },
  exited: {
    title: 'The Petals server exited unexpectedly',
    hint: 'See the Petals log file in the node\'s data directory for the error',
    permanent: false
  }
}

export function makeFailure (kind: FailureKind, detail?: string | null): Failure {
  const info = FAILURE_INFO[kind]
  const clean = detail?.trim()
  return {
    kind,
    message: clean == null || clean === '' ? info.title : `${info.title}: ${clean.length > 400 ? clean.slice(0, 400) + '…' : clean}`,
    hint: info.hint,
    permanent: info.permanent
  }
}

const PATTERNS: ReadonlyArray<[RegExp, FailureKind]> = [
  [/CUDA out of memory|OutOfMemoryError/, 'cuda-oom'],
  [/Your GPU does not have enough memory to serve at least one block/, 'gpu-memory'],
  [/GPU is not available\. If you want to run a CPU-only server/, 'no-gpu'],
  [/Identity from `.*` is already taken by another peer/, 'identity-taken'],
  [/DHTNode bootstrap failed|failed to connect to bootstrap peers/, 'bootstrap-failed'],
  [/Daemon failed to start.*(address already in use|bind:)/i, 'port-in-use'],
  [/Daemon failed to start/, 'daemon-failed'],
  [/Petals does not support model type/, 'unsupported-model'],
  [/Petals does not have \w+ for model type/, 'unsupported-model'],
  [/Insufficient disk space to load a block/, 'disk-space'],
  [/Type float16 is not supported on CPU/, 'unsupported-dtype'],
  [/Please install a proper transformers version/, 'dependency'],
  [/gated repo|Cannot access gated repo|401 Client Error|Access to model .* is restricted/i, 'model-access'],
  [/is not a local folder and is not a valid model identifier|Repository Not Found|does not contain weights in a supported format/, 'model-not-found'],
  [/couldn't connect to 'https:\/\/huggingface\.co'/, 'hub-unreachable'],
  [/Server has not become reachable from the Internet/, 'reachability'],
  [/^run_server\.py: error: /, 'invalid-arguments'],
  [/You can't use --|Please specify a fixed non-zero --port|Please specify num_blocks or block_indices, not both|DHT prefix should not contain|Failed to parse `--block_indices|Unrecognized value for --max_disk_space/, 'invalid-arguments'],
  [/^TypeError: argument of type 'NoneType' is not iterable/, 'invalid-arguments']
]

/** Classify one line of Petals output (an exception line, an error record, an argparse error); null if it is not a known failure. */
export function classifyFailureText (text: string): Failure | null {
  for (const [pattern, kind] of PATTERNS) {
    if (pattern.test(text)) {
      if (kind === 'invalid-arguments' && /NoneType' is not iterable/.test(text)) {
        return { ...makeFailure(kind, text), hint: 'A local model directory needs an explicit DHT prefix: set petals.dhtPrefix' }
      }
      return makeFailure(kind, text)
    }
  }
  return null
}
