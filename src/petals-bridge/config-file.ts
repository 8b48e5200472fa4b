// Reading the Petals section from a node configuration file (YAML or JSON) for the CLI tools.

import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { parsePetalsConfig } from './config.ts'
import type { PetalsConfig } from './config.ts'
import { PetalsBridgeError } from './errors.ts'

export class ConfigFileError extends PetalsBridgeError {
  readonly path: string

  constructor (path: string, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, hint, options)
    this.path = path
  }
}

export interface LoadedConfigFile {
  petals: PetalsConfig
  /** The whole file, for callers that need other sections (e.g. dataDir). */
  raw: Record<string, unknown>
}

/** Load `path`; the Petals settings are its `petals` key, or the whole file when there is none. */
export function loadPetalsConfigFile (path: string): LoadedConfigFile {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigFileError(path, `Cannot read ${path}: ${(err as Error).message}`, 'Check the --config path', { cause: err })
  }
  let raw: unknown
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch (err) {
    throw new ConfigFileError(path, `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, 'Fix the syntax', { cause: err })
  }
  const doc = (raw ?? {}) as Record<string, unknown>
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigFileError(path, `${path} must contain a mapping`, 'Write the settings as key: value pairs')
  const section = 'petals' in doc ? doc.petals : doc
  try {
    return { petals: parsePetalsConfig(section), raw: doc }
  } catch (err) {
    if (err instanceof z.ZodError) {
      const issues = err.issues.map((i) => `petals.${i.path.join('.')}: ${i.message}`).join('; ')
      throw new ConfigFileError(path, `Invalid Petals settings in ${path}: ${issues}`, 'Fix the listed settings', { cause: err })
    }
    throw err
  }
}
