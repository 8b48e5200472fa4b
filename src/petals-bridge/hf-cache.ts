// Locating a model's config.json on disk: a local directory, or the Hugging Face cache layout
// `<cache>/models--org--name/refs/<rev>` -> `snapshots/<commit>/config.json`.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export interface CacheDirsOptions {
  env?: NodeJS.ProcessEnv
  /** Searched first, e.g. the configured Petals cache directory. */
  extraDirs?: Array<string | null | undefined>
  homeDir?: string
}

/**
 * Directories that may hold Hugging Face caches, most specific first: the given ones, Petals' cache
 * ($PETALS_CACHE or ~/.cache/petals, where run_server puts weights) and the Hub cache transformers uses
 * for config.json ($HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub).
 */
export function hubCacheDirs (opts: CacheDirsOptions = {}): string[] {
  const env = opts.env ?? process.env
  const home = opts.homeDir ?? homedir()
  const xdgCache = nonEmpty(env.XDG_CACHE_HOME) ?? join(home, '.cache')
  const candidates = [
    ...(opts.extraDirs ?? []),
    nonEmpty(env.PETALS_CACHE) ?? join(xdgCache, 'petals'),
    nonEmpty(env.HF_HUB_CACHE),
    nonEmpty(env.HUGGINGFACE_HUB_CACHE),
    nonEmpty(env.HF_HOME) != null ? join(env.HF_HOME as string, 'hub') : undefined,
    join(xdgCache, 'huggingface', 'hub')
  ]
  const seen = new Set<string>()
  const dirs: string[] = []
  for (const dir of candidates) {
    if (dir == null || dir === '' || seen.has(dir)) continue
    seen.add(dir)
    dirs.push(dir)
  }
  return dirs
}

export interface CachedConfigLookup {
  path: string | null
  searched: string[]
}

/** Find `config.json` of `repo` (at `revision`, else refs/main, else the newest snapshot) in the given caches. */
export function findCachedConfig (repo: string, revisions: Array<string | null>, dirs: string[]): CachedConfigLookup {
  const folder = 'models--' + repo.split('/').join('--')
  const searched: string[] = []
  for (const dir of dirs) {
    const root = join(dir, folder)
    searched.push(root)
    if (!isDir(root)) continue
    for (const revision of [...revisions, 'main']) {
      if (revision == null) continue
      const ref = join(root, 'refs', revision)
      const commit = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : revision
      const path = join(root, 'snapshots', commit, 'config.json')
      if (existsSync(path)) return { path, searched }
    }
    const snapshots = join(root, 'snapshots')
    if (!isDir(snapshots)) continue
    const newest = readdirSync(snapshots)
      .map((name) => join(snapshots, name, 'config.json'))
      .filter((path) => existsSync(path))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
    if (newest != null) return { path: newest, searched }
  }
  return { path: null, searched }
}

function isDir (path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function nonEmpty (value: string | undefined): string | undefined {
  return value == null || value === '' ? undefined : value
}
