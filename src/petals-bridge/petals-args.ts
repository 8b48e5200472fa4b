// The arguments of `python -m petals.cli.run_server` (src/petals/cli/run_server.py @ 22afba62), for
// validating extra arguments an operator adds. Arguments petalmesh sets itself are "managed" and refused
// as extras, because a second value would silently override (or conflict with) petalmesh's decision.

export type PetalsArgKind = 'flag' | 'value' | 'list'

export interface PetalsArgSpec {
  kind: PetalsArgKind
  /** Set by petalmesh from its own configuration; refused in extraArgs. */
  managed?: string
  choices?: readonly string[]
}

export const RUN_SERVER_ARGS: Readonly<Record<string, PetalsArgSpec>> = {
  '--config': { kind: 'value', managed: 'petalmesh runs Petals from a clean directory without a config file' },
  '--converted_model_name_or_path': { kind: 'value', managed: 'petals.model' },
  '--public_name': { kind: 'value', managed: 'petals.publicName' },
  '--token': { kind: 'value', managed: 'petals.token (secrets are passed through the environment, never argv)' },
  '--use_auth_token': { kind: 'flag', managed: 'petals.token' },
  '--num_blocks': { kind: 'value', managed: 'petalmesh pins the span with --block_indices (set petals.numBlocks for capacity)' },
  '--block_indices': { kind: 'value', managed: 'the span negotiated by petalmesh' },
  '--dht_prefix': { kind: 'value', managed: 'petals.dhtPrefix' },
  '--port': { kind: 'value', managed: 'petals.port' },
  '--public_ip': { kind: 'value', managed: 'petals.publicIp' },
  '--no_auto_relay': { kind: 'flag' },
  '--host_maddrs': { kind: 'list', managed: 'petals.port (Petals refuses --host_maddrs together with --port)' },
  '--announce_maddrs': { kind: 'list', managed: 'petals.announceMaddrs' },
  '--daemon_startup_timeout': { kind: 'value' },
  '--compression': { kind: 'value', choices: ['NONE', 'MEANSTD_16BIT', 'FLOAT16', 'QUANTILE_8BIT', 'UNIFORM_8BIT', 'BLOCKWISE_8BIT'] },
  '--num_handlers': { kind: 'value' },
  '--prefetch_batches': { kind: 'value' },
  '--sender_threads': { kind: 'value' },
  '--inference_max_length': { kind: 'value' },
  '--min_batch_size': { kind: 'value' },
  '--max_batch_size': { kind: 'value' },
  '--max_chunk_size_bytes': { kind: 'value' },
  '--attn_cache_tokens': { kind: 'value' },
  '--cache_dir': { kind: 'value', managed: 'petals.cacheDir' },
  '--max_disk_space': { kind: 'value', managed: 'petals.maxDiskSpace' },
  '--device': { kind: 'value' },
  '--torch_dtype': { kind: 'value', managed: 'petals.torchDtype' },
  '--max_alloc_timeout': { kind: 'value' },
  '--revision': { kind: 'value', managed: 'petals.revision' },
  '--throughput': { kind: 'value', managed: 'petals.throughput' },
  '--update_period': { kind: 'value' },
  '--expiration': { kind: 'value' },
  '--request_timeout': { kind: 'value' },
  '--session_timeout': { kind: 'value' },
  '--step_timeout': { kind: 'value' },
  '--initial_peers': { kind: 'list', managed: 'the online Petals servers of petalmesh\'s swarm view' },
  '--new_swarm': { kind: 'flag', managed: 'used by petalmesh when no Petals server is online yet' },
  '--increase_file_limit': { kind: 'value' },
  '--stats_report_interval': { kind: 'value' },
  '--custom_module_path': { kind: 'value' },
  '--identity_path': { kind: 'value', managed: 'petals.identityPath' },
  '--balance_quality': { kind: 'value' },
  '--mean_balance_check_period': { kind: 'value' },
  '--quant_type': { kind: 'value', managed: 'petals.quantType' },
  '--tensor_parallel_devices': { kind: 'list' },
  '--skip_reachability_check': { kind: 'flag' },
  '--adapters': { kind: 'list', managed: 'petals.adapters' }
}

export interface ExtraArgsProblem {
  arg: string
  reason: string
}

/**
 * Check operator-supplied extra arguments: each must be a known, unmanaged run_server option spelled in
 * full (argparse would accept abbreviations, which could smuggle in a managed option), with its values.
 */
export function extraArgsProblem (args: readonly string[]): ExtraArgsProblem | null {
  let i = 0
  while (i < args.length) {
    const token = args[i]
    if (!token.startsWith('-')) return { arg: token, reason: 'is not an option (extra arguments must start with --name)' }
    const [name, inline] = token.includes('=') ? [token.slice(0, token.indexOf('=')), token.slice(token.indexOf('=') + 1)] : [token, null]
    const spec = RUN_SERVER_ARGS[name === '-c' ? '--config' : name]
    if (spec == null) return { arg: name, reason: 'is not a run_server option (options must be spelled in full)' }
    if (spec.managed != null) return { arg: name, reason: `is managed by petalmesh: ${spec.managed}` }
    i += 1
    const values: string[] = inline != null ? [inline] : []
    if (inline == null && spec.kind !== 'flag') {
      while (i < args.length && !/^--?[A-Za-z]/.test(args[i])) {
        values.push(args[i])
        i += 1
        if (spec.kind === 'value') break
      }
    }
    if (spec.kind === 'flag' && values.length > 0) return { arg: name, reason: 'takes no value' }
    if (spec.kind !== 'flag' && values.length === 0) return { arg: name, reason: 'needs a value' }
    if (spec.choices != null && !spec.choices.includes(values[0].toUpperCase())) {
      return { arg: name, reason: `must be one of ${spec.choices.join(', ')}` }
    }
  }
  return null
}
