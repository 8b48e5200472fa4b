import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseLogRecord, parsePetalsLog, PetalsLogParser } from '../../src/petals-bridge/index.ts'
import type { PetalsEvent } from '../../src/petals-bridge/index.ts'
import { ISSUE_236, ISSUE_326, ISSUE_413, ISSUE_466_WARN, REFERENCE_LIFECYCLE, uncaught } from './real-logs.ts'
import { HUB, PYTHON, STANDIN, tempDir } from './helpers.ts'

const names = (events: PetalsEvent[]): string[] => events.map((e) => e.event)

describe('hivemind log format', () => {
  it('parses INFO lines, and WARN lines with their caller block', () => {
    expect(parseLogRecord("Jul 23 13:07:31.667 [INFO] Running a server on ['/ip4/172.17.0.2/tcp/31330/p2p/12D3KooW']"))
      .toEqual({ time: 'Jul 23 13:07:31.667', level: 'INFO', caller: null, message: "Running a server on ['/ip4/172.17.0.2/tcp/31330/p2p/12D3KooW']" })
    expect(parseLogRecord(ISSUE_466_WARN)).toMatchObject({ level: 'WARN', caller: 'petals.client.lm_head.chunked_forward:72' })
    expect(parseLogRecord('Jun  3 02:43:35.214 [DEBUG] [hivemind.p2p.p2p_daemon.create:225] Launching')).toMatchObject({ time: 'Jun  3 02:43:35.214', level: 'DEBUG' })
    expect(parseLogRecord('\x1b[1mJul 23 13:07:15.639\x1b[0m [\x1b[1m\x1b[34mINFO\x1b[0m] Running \x1b[1mPetals 2.3.0\x1b[0m'))
      .toMatchObject({ level: 'INFO', message: 'Running Petals 2.3.0' })
    expect(parseLogRecord('Traceback (most recent call last):')).toBeNull()
    expect(parseLogRecord('Downloading (…)lve/main/config.json: 100%|██████████| 509/509')).toBeNull()
  })
})

describe('lifecycle events from real Petals logs', () => {
  it('issue #413: version, prefix, public swarm, DHT up with the peer ID', () => {
    const events = parsePetalsLog(ISSUE_413)
    expect(events).toEqual([
      { event: 'version', time: 'Jul 23 13:07:15.639', version: '2.0.0.post3' },
      { event: 'dht_prefix', time: 'Jul 23 13:07:16.644', prefix: 'llama-65b-hf' },
      { event: 'swarm', time: 'Jul 23 13:07:31.666', swarm: 'public', initialPeers: [] },
      {
        event: 'dht_ready',
        time: 'Jul 23 13:07:31.667',
        peerId: '12D3KooWMPTUGXTVsLJ5KK2uXKqp9wnSCWHU1bbotHNnX5wsFTbq',
        multiaddrs: [
          '/ip4/172.17.0.2/tcp/31330/p2p/12D3KooWMPTUGXTVsLJ5KK2uXKqp9wnSCWHU1bbotHNnX5wsFTbq',
          '/ip4/127.0.0.1/tcp/31330/p2p/12D3KooWMPTUGXTVsLJ5KK2uXKqp9wnSCWHU1bbotHNnX5wsFTbq'
        ],
        dhtServer: true
      }
    ])
  })

  it('a server reachable only through relays runs a client-mode DHT: not a DHT server others can bootstrap from', () => {
    // The same log, as Petals prints it when check_direct_reachability failed (server.py:137-147).
    const relayed = parsePetalsLog(ISSUE_413.replace('This server is accessible directly', 'This server is accessible via relays'))
    expect(relayed.find((e) => e.event === 'dht_ready')).toMatchObject({ dhtServer: false })
    // A new start of the server (its "Running Petals" line) forgets it.
    const parser = new PetalsLogParser()
    for (const line of ISSUE_413.replace('This server is accessible directly', 'This server is accessible via relays').split('\n')) parser.push(line)
    const again = ISSUE_413.split('\n').filter((line) => !line.includes('This server is accessible')).flatMap((line) => parser.push(line))
    expect(again.find((e) => e.event === 'dht_ready')).toMatchObject({ dhtServer: true })
  })

  it('issue #326: private swarm, pinned span range(2, 3), loading 1/1 (old "Loaded ..., <All keys matched>" form)', () => {
    const events = parsePetalsLog(ISSUE_326)
    expect(names(events)).toEqual(['version', 'swarm', 'dht_ready', 'joining', 'loading'])
    expect(events[1]).toMatchObject({ swarm: 'private', initialPeers: ['/ip4/192.168.209.99/tcp/18090/p2p/QmNgystzECgWFvYUmd2bwLLhAs422ZvmeDRcTNEcLeX5Za'] })
    expect(events[2]).toMatchObject({ peerId: '12D3KooWHCxYU7P9sU4nyUZd6sipDuLoxs4L4MmAVRVtiVoS6UvL' })
    expect(events[3]).toMatchObject({ event: 'joining', span: { start: 2, end: 3 } })
    expect(events[4]).toMatchObject({ event: 'loading', block: 2, done: 1, total: 1 })
  })

  it('reference lifecycle: joining list, loading i/n (adapters not counted), online, rebalancing, request OOM recovered, graceful stop', () => {
    const events = parsePetalsLog(REFERENCE_LIFECYCLE)
    expect(names(events)).toEqual([
      'dht_ready', 'throughput', 'joining', 'loading', 'loading', 'loading', 'loading', 'online',
      'rebalancing', 'offline', 'shutdown',
      'joining', 'loading', 'loading', 'loading', 'loading', 'online',
      'offline', 'shutdown', 'interrupted'
    ])
    expect(events[1]).toMatchObject({ tokensPerSec: 1024.5, blocks: 4 })
    expect(events[2]).toMatchObject({ span: { start: 60, end: 64 } })
    expect(events.filter((e) => e.event === 'loading').slice(0, 4).map((e) => e.event === 'loading' && `${e.done}/${e.total}`)).toEqual(['1/4', '2/4', '3/4', '4/4'])
    expect(events[7]).toMatchObject({ event: 'online', span: { start: 60, end: 64 } })
    expect(events[9]).toMatchObject({ event: 'offline', blocks: [60, 61, 62, 63] })
    expect(events[16]).toMatchObject({ event: 'online', span: { start: 10, end: 14 } })
    // The OOM inside a request ("attempting to recover") is not a crash.
    expect(events.some((e) => e.event === 'crashed')).toBe(false)
  })

  it('issue #236: a retried download warning with its traceback is not a crash', () => {
    const events = parsePetalsLog(ISSUE_236)
    expect(events).toEqual([{ event: 'download_retry', time: 'Jan 24 06:36:00.449', file: '64', count: 1 }])
  })
})

describe('failure classification (reference §2.6)', () => {
  const cases: Array<[string, string, string, RegExp]> = [
    ['CUDA OOM while loading', 'torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.75 GiB (GPU 0; 23.65 GiB total capacity)', 'cuda-oom', /numBlocks/],
    ['bootstrap', 'RuntimeError: DHTNode bootstrap failed: none of the initial_peers responded to a ping. (set ensure_bootstrap_success=False to ignore)', 'bootstrap-failed', /firewall/],
    ['p2pd bootstrap', 'hivemind.p2p.p2p_daemon_bindings.utils.P2PDaemonError: Daemon failed to start: failed to connect to bootstrap peers', 'bootstrap-failed', /firewall/],
    ['identity', 'hivemind.p2p.p2p_daemon_bindings.utils.P2PDaemonError: Identity from `/data/petals/identity.key` is already taken by another peer', 'identity-taken', /delete the identity file/],
    ['unsupported model', 'ValueError: Petals does not support model type mistral', 'unsupported-model', /bloom, llama, falcon and mixtral/],
    ['GPU too small', 'AssertionError: Your GPU does not have enough memory to serve at least one block', 'gpu-memory', /nf4/],
    ['no GPU', 'AssertionError: GPU is not available. If you want to run a CPU-only server, please specify --num_blocks. CPU-only servers in the public swarm are discouraged since they are much slower', 'no-gpu', /CUDA build of PyTorch/],
    ['fp16 on CPU', 'ValueError: Type float16 is not supported on CPU. Please use --torch_dtype float32 or --torch_dtype bfloat16', 'unsupported-dtype', /bfloat16/],
    ['local dir without prefix', "TypeError: argument of type 'NoneType' is not iterable", 'invalid-arguments', /petals.dhtPrefix/],
    ['transformers version', 'AssertionError: Please install a proper transformers version: pip install transformers>=4.43.1,<4.44.0', 'dependency', /clean virtual environment/],
    ['no weights', 'ValueError: Repo foo/bar does not contain weights in a supported format: files [model.safetensors] do not exist', 'model-not-found', /petals.model/],
    ['reachability', 'RuntimeError: Server has not become reachable from the Internet:', 'reachability', /publicIp/],
    ['port taken', 'hivemind.p2p.p2p_daemon_bindings.utils.P2PDaemonError: Daemon failed to start: failed to listen on any addresses: [listen tcp4 0.0.0.0:31330: bind: address already in use]', 'port-in-use', /petals.port/]
  ]

  it.each(cases)('%s', (_name, line, kind, hint) => {
    const events = parsePetalsLog(uncaught(line))
    const crash = events.find((e) => e.event === 'crashed')
    expect(crash).toMatchObject({ reason: kind })
    expect(crash?.event === 'crashed' && crash.hint).toMatch(hint)
    expect(crash?.event === 'crashed' && crash.message).toContain(line.slice(line.indexOf(':') + 2, line.indexOf(':') + 30))
  })

  it('argparse errors are invalid arguments', () => {
    const events = parsePetalsLog('usage: run_server.py [-h] [-c CONFIG]\nrun_server.py: error: argument --initial_peers: expected at least one argument')
    expect(events).toMatchObject([{ event: 'crashed', reason: 'invalid-arguments', permanent: true }])
  })

  it('a fatal traceback right after a warning\'s own traceback still counts', () => {
    const log = `Jul 23 13:07:15.640 [WARN] [petals.utils.version.validate_version:33] Failed to fetch the latest Petals version from PyPI:
Traceback (most recent call last):
  File "/x.py", line 1, in validate_version
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.python.org', port=443): CUDA out of memory is not this
Traceback (most recent call last):
  File "/home/petals/src/petals/cli/run_server.py", line 235, in main
ValueError: Petals does not support model type qwen2`
    expect(parsePetalsLog(log).filter((e) => e.event === 'crashed')).toMatchObject([{ reason: 'unsupported-model' }])
  })

  it('repeated "Failed to load file" means a stuck download (or a full disk)', () => {
    const retry = (i: number, cause: string): string => `Jul 23 13:0${i}:00.000 [WARN] [petals.server.from_pretrained._load_state_dict_from_repo_file:212] Failed to load file model-00007-of-00030.safetensors from HF Hub (retry in 30 sec)
Traceback (most recent call last):
  File "/home/petals/src/petals/server/from_pretrained.py", line 201, in _load_state_dict_from_repo_file
${cause}`
    const network = 'requests.exceptions.ConnectionError: Read timed out.'
    const events = parsePetalsLog([1, 2, 3].map((i) => retry(i, network)).join('\n'))
    expect(names(events)).toEqual(['download_retry', 'download_retry', 'download_retry', 'crashed'])
    expect(events[3]).toMatchObject({ reason: 'stuck-download', permanent: false })
    const disk = 'RuntimeError: Insufficient disk space to load a block. Please free 12.3 GiB on the volume for /cache or increase --max_disk_space if you set it manually'
    const diskEvents = parsePetalsLog([1, 2].map((i) => retry(i, disk)).join('\n'), { stuckDownloadRetries: 2 })
    expect(diskEvents.at(-1)).toMatchObject({ event: 'crashed', reason: 'disk-space' })
    // a loaded block resets the count
    const mixed = [retry(1, network), retry(2, network), 'Jul 23 13:03:00.000 [INFO] Loaded llama block 3', retry(4, network)].join('\n')
    expect(parsePetalsLog(mixed).some((e) => e.event === 'crashed')).toBe(false)
  })

  it('reports a crash once per run and starts afresh on the next "Running Petals"', () => {
    const parser = new PetalsLogParser()
    const first = [...parser.push('Jul 23 13:07:15.639 [INFO] Running Petals 2.3.0'), ...parser.push('RuntimeError: DHTNode bootstrap failed: none of the initial_peers responded to a ping.'), ...parser.push('RuntimeError: DHTNode bootstrap failed: none of the initial_peers responded to a ping.')]
    expect(names(first)).toEqual(['version', 'crashed'])
    const second = [...parser.push('Jul 23 13:08:15.639 [INFO] Running Petals 2.3.0'), ...parser.push('torch.cuda.OutOfMemoryError: CUDA out of memory.')]
    expect(second.at(-1)).toMatchObject({ reason: 'cuda-oom' })
    expect(parser.push('[petalmesh] 2024-01-01T00:00:00Z Petals crashed (cuda-oom): CUDA out of memory')).toEqual([])
  })
})

describe('the stand-in prints what the parser expects', () => {
  it('gives the same classification for its failure modes', () => {
    const { dir, cleanup } = tempDir()
    try {
      const run = (fail: string, span = ['--block_indices', '0:3']): string => {
        try {
          execFileSync(PYTHON, ['-m', 'petals.cli.run_server', 'bigscience/bloom-560m', ...span, '--new_swarm', '--port', '0', '--throughput', '1', '--identity_path', join(dir, 'id.key')], {
            cwd: dir,
            env: { ...process.env, PYTHONPATH: STANDIN, HF_HUB_CACHE: HUB, HIVEMIND_COLORS: '0', PETALS_STANDIN_FAIL: fail, PETALS_STANDIN_STEP_MS: '1', PETALS_STANDIN_LOAD_MS_PER_BLOCK: '1' },
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
            timeout: 20_000
          })
          return ''
        } catch (err) {
          return String((err as { stderr: string }).stderr)
        }
      }
      const oom = parsePetalsLog(run('cuda_oom'))
      expect(names(oom)).toEqual(['version', 'dht_prefix', 'swarm', 'dht_ready', 'joining', 'loading', 'offline', 'crashed'])
      expect(oom.at(-1)).toMatchObject({ event: 'crashed', reason: 'cuda-oom' })
      expect(parsePetalsLog(run('gpu_memory', [])).at(-1)).toMatchObject({ event: 'crashed', reason: 'gpu-memory' })
      expect(parsePetalsLog(run('unsupported_model')).at(-1)).toMatchObject({ event: 'crashed', reason: 'unsupported-model' })
    } finally {
      cleanup()
    }
  })
})
