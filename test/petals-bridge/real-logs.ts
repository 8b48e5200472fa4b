// Excerpts of real Petals server logs, as quoted in Petals' GitHub issues and in
// /work/shared/reference/petals.md (§2). Used to check the log parser on output it did not produce itself.

/** bigscience-workshop/petals#413 (Petals 2.0.0.post3 in Docker, public swarm, LLaMA-65B + adapter). */
export const ISSUE_413 = `Jul 23 13:07:15.639 [INFO] Running Petals 2.0.0.post3
Downloading (…)lve/main/config.json: 100%|██████████| 509/509 [00:00<00:00, 3.93MB/s]
Jul 23 13:07:16.644 [INFO] Make sure you follow the LLaMA's terms of use: https://bit.ly/llama2-license for LLaMA 2, https://bit.ly/llama-license for LLaMA 1
Jul 23 13:07:16.644 [INFO] Using DHT prefix: llama-65b-hf
Jul 23 13:07:27.680 [INFO] This server is accessible directly
Jul 23 13:07:31.666 [INFO] Connecting to the public swarm
Jul 23 13:07:31.667 [INFO] Running a server on ['/ip4/172.17.0.2/tcp/31330/p2p/12D3KooWMPTUGXTVsLJ5KK2uXKqp9wnSCWHU1bbotHNnX5wsFTbq', '/ip4/127.0.0.1/tcp/31330/p2p/12D3KooWMPTUGXTVsLJ5KK2uXKqp9wnSCWHU1bbotHNnX5wsFTbq']
Jul 23 13:07:31.688 [INFO] Model weights are loaded in float16, quantized to nf4 format
Downloading (…)/adapter_config.json: 100%|██████████| 425/425 [00:00<00:00, 3.36MB/s]
Downloading (…)er_model.safetensors:   0%|          | 0.00/3.20G`

/**
 * bigscience-workshop/petals#326 (Petals 1.1.5, private swarm, --block_indices 2:3). The quoted excerpt ends
 * inside the last line; it is completed with the message PyTorch's load_state_dict returns.
 */
export const ISSUE_326 = `Jun 10 02:43:35.214 [INFO] Running Petals 1.1.5
Jun 10 02:43:37.187 [INFO] This server is accessible directly
Jun 10 02:43:38.295 [INFO] Connecting to a private swarm, initial peers: ['/ip4/192.168.209.99/tcp/18090/p2p/QmNgystzECgWFvYUmd2bwLLhAs422ZvmeDRcTNEcLeX5Za']
Jun 10 02:43:38.298 [INFO] Running a server on ['/ip4/192.168.209.1/tcp/36755/p2p/12D3KooWHCxYU7P9sU4nyUZd6sipDuLoxs4L4MmAVRVtiVoS6UvL', '/ip4/127.0.0.1/tcp/36755/p2p/12D3KooWHCxYU7P9sU4nyUZd6sipDuLoxs4L4MmAVRVtiVoS6UvL', '/ip6/::1/tcp/40787/p2p/12D3KooWHCxYU7P9sU4nyUZd6sipDuLoxs4L4MmAVRVtiVoS6UvL']
Jun 10 02:43:38.347 [INFO] Model weights will be loaded in 8-bit format
Jun 10 02:43:38.347 [INFO] Attention cache for all blocks will consume up to 0.50 GiB
Jun 10 02:43:38.349 [INFO] Announced that blocks range(2, 3) are joining
Jun 10 02:43:38.565 [INFO] Reachability service started
Jun 10 02:43:41.092 [INFO] Loaded bigscience/bloom-petals block 2, <All keys matched successfully>`

/** bigscience-workshop/petals#236 (older Petals: a corrupted download retried with a WARN and a traceback). */
export const ISSUE_236 = `Jan 24 06:36:00.449 [WARN] [/home/petals/src/petals/bloom/from_pretrained.py._load_state_dict:121] Failed to load block 64 from HF Hub (retry in 10240 sec)
Traceback (most recent call last):
  File "/home/petals/src/petals/bloom/from_pretrained.py", line 118, in _load_state_dict
    return torch.load(archive_file, map_location="cpu")
  File "/opt/conda/lib/python3.10/site-packages/torch/serialization.py", line 777, in load
    with _open_zipfile_reader(opened_file) as opened_zipfile:
  File "/opt/conda/lib/python3.10/site-packages/torch/serialization.py", line 282, in __init__
    super(_open_zipfile_reader, self).__init__(torch._C.PyTorchFileReader(name_or_buffer))
RuntimeError: PytorchStreamReader failed reading zip archive: failed finding central directory`

/** bigscience-workshop/petals#466 (client side; a WARN with the caller block). */
export const ISSUE_466_WARN = "Aug 16 16:23:21.358 [WARN] [petals.client.lm_head.chunked_forward:72] Running the client with dtype bfloat16 on CPU may be slow, since your CPU doesn't support AVX512. Consider loading the model with torch_dtype='float32'"

/**
 * Server lifecycle lines from the reference (§2.2, §2.4, §2.5), in hivemind's format: a server chosen by
 * Petals itself (list form), rebalancing, and a Ctrl+C shutdown.
 */
export const REFERENCE_LIFECYCLE = `Jul 23 13:07:31.667 [INFO] Running a server on ['/ip4/10.0.0.5/tcp/31330/p2p/QmZijSrKQ7mjGY2Bxcbw941FnbwAytxzK8h8anhNtheRkN']
Jul 23 13:07:35.001 [INFO] Reporting throughput: 1024.5 tokens/sec for 4 blocks
Jul 23 13:07:40.000 [INFO] Announced that blocks [60, 61, 62, 63] are joining
Jul 23 13:08:40.000 [INFO] Loaded llama-65b-hf block 60
Jul 23 13:08:41.000 [INFO] Loaded adapter timdettmers/guanaco-65b for block 60
Jul 23 13:09:40.000 [INFO] Loaded llama-65b-hf block 61
Jul 23 13:10:40.000 [INFO] Loaded llama-65b-hf block 62
Jul 23 13:11:40.000 [INFO] Loaded llama-65b-hf block 63
Jul 23 13:11:41.000 [INFO] Started
Jul 23 13:20:00.000 [INFO] Swarm balance quality: 61.3%
Jul 23 13:20:00.001 [INFO] Swarm is imbalanced, server will load other blocks
Jul 23 13:20:00.002 [INFO] Announced that blocks ['llama-65b-hf.60', 'llama-65b-hf.61', 'llama-65b-hf.62', 'llama-65b-hf.63'] are offline
Jul 23 13:20:00.003 [INFO] Shutting down
Jul 23 13:20:01.000 [INFO] Module container shut down successfully
Jul 23 13:20:01.500 [INFO] Cleaning up, left 0.1 GiB allocated memory, 0.2 GiB reserved memory
Jul 23 13:20:08.000 [INFO] Announced that blocks [10, 11, 12, 13] are joining
Jul 23 13:21:00.000 [INFO] Loaded llama-65b-hf block 10
Jul 23 13:21:30.000 [ERROR] [hivemind.moe.server.runtime.run:101] Caught OutOfMemoryError('CUDA out of memory. Tried to allocate 2.00 GiB'), attempting to recover
Traceback (most recent call last):
  File "/opt/conda/lib/python3.10/site-packages/hivemind/moe/server/runtime.py", line 94, in run
    outputs, batch_size = self.process_batch(pool, batch_index, *batch)
torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB
Jul 23 13:22:00.000 [INFO] Loaded llama-65b-hf block 11
Jul 23 13:22:30.000 [INFO] Loaded llama-65b-hf block 12
Jul 23 13:23:00.000 [INFO] Loaded llama-65b-hf block 13
Jul 23 13:23:01.000 [INFO] Started
Jul 23 14:00:00.000 [INFO] Announced that blocks ['llama-65b-hf.10', 'llama-65b-hf.11', 'llama-65b-hf.12', 'llama-65b-hf.13'] are offline
Jul 23 14:00:00.001 [INFO] Shutting down
Jul 23 14:00:00.500 [INFO] Module container shut down successfully
Jul 23 14:00:00.501 [INFO] Caught KeyboardInterrupt, shutting down`

/** Fatal errors of the reference's table (§2.6), as Python prints an uncaught exception. */
export function uncaught (exceptionLine: string, after = 'Jul 23 13:07:31.688 [INFO] Model weights are loaded in bfloat16, quantized to nf4 format'): string {
  return `${after}
Traceback (most recent call last):
  File "/usr/lib/python3.10/runpy.py", line 196, in _run_module_as_main
    return _run_code(code, main_globals, None,
  File "/home/petals/src/petals/cli/run_server.py", line 235, in main
    server = Server(
${exceptionLine}`
}
