// DHT prefixes: Petals' per-family defaults (src/petals/models/*/config.py) and its validity rule
// (no '.' = UID_DELIMITER and no ' ' = CHAIN_DELIMITER, server/server.py).

import { InvalidPetalsCommandError } from './errors.ts'

export type PrefixFamily = 'bloom' | 'llama' | 'falcon' | 'mixtral'

/** The prefix Petals derives when none is given, for a model loaded from a Hugging Face repo. */
export function defaultDhtPrefix (family: PrefixFamily, model: string): string {
  const repo = /^(bigscience\/.+)-petals$/.exec(model)?.[1] ?? model // get_compatible_model_repo
  switch (family) {
    case 'bloom':
      // "-petals" kept for compatibility with Petals < 1.2.0; the org stays
      return (repo + '-petals').replaceAll('.', '-')
    case 'llama': {
      const name = repo.split('/').at(-1)!.replaceAll('.', '-')
      return name.endsWith('-hf') ? name : name + '-hf'
    }
    case 'falcon':
      return repo.split('/').at(-1)!.replaceAll('.', '-')
    case 'mixtral':
      return repo.replaceAll('.', '-')
  }
}

/** Why Petals would refuse this prefix, or null if it is fine. */
export function dhtPrefixProblem (prefix: string): string | null {
  if (prefix === '') return 'the DHT prefix is empty'
  if (prefix.includes('.')) return `the DHT prefix "${prefix}" contains "."`
  if (prefix.includes(' ')) return `the DHT prefix "${prefix}" contains a space`
  return null
}

/** The prefix the server will announce under: the configured one, else the family default. */
export function resolveDhtPrefix (configured: string | null, defaultPrefix: string | null, model: string): string {
  if (configured == null) {
    if (defaultPrefix == null) {
      throw new InvalidPetalsCommandError('dhtPrefix',
        `The model is a local directory (${model}), so Petals cannot derive a DHT prefix`,
        'Set petals.dhtPrefix (e.g. "my-llama-hf"); clients must use the same prefix (a leading "_" keeps it out of the public model index)')
    }
    return defaultPrefix
  }
  const problem = dhtPrefixProblem(configured)
  if (problem != null) {
    throw new InvalidPetalsCommandError('dhtPrefix', `Petals refuses ${problem}`,
      'Use a prefix without "." or spaces, e.g. replace "." by "-" (Meta-Llama-3-1-405B-Instruct-hf)')
  }
  return configured
}
