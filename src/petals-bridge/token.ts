// Reading the Hugging Face token from where the configuration says (a file or an environment variable).

import { readFileSync } from 'node:fs'
import type { TokenSource } from './config.ts'
import { TokenError } from './errors.ts'

export function resolveToken (source: TokenSource | null, env: NodeJS.ProcessEnv = process.env): string | null {
  if (source == null) return null
  if ('file' in source) {
    let text: string
    try {
      text = readFileSync(source.file, 'utf8')
    } catch (err) {
      throw new TokenError(`Cannot read the Hugging Face token file ${source.file}: ${(err as Error).message}`,
        'Create the file with the token (chmod 600), or change petals.token', { cause: err })
    }
    const token = text.trim()
    if (token === '') throw new TokenError(`The Hugging Face token file ${source.file} is empty`, 'Put the token (hf_...) in the file')
    return token
  }
  const token = env[source.env]?.trim() ?? ''
  if (token === '') {
    throw new TokenError(`The environment variable ${source.env} (petals.token.env) is not set`,
      `Export ${source.env}=<your Hugging Face token> before starting petalmesh, or change petals.token`)
  }
  return token
}

/** Describe a token source without revealing the secret (for dry runs and logs). */
export function describeTokenSource (source: TokenSource): string {
  return 'file' in source ? `<redacted: from file ${source.file}>` : `<redacted: from $${source.env}>`
}
