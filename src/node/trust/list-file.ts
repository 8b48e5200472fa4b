// The admission list file (trust.listFile): read at start, then watched and re-read on change so
// lists change without a restart. Reloading never throws: a bad or missing file keeps the lists
// last applied and reports the problem once (until the file changes again).
import { watch, type FSWatcher } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { ConfigError, PetalmeshError } from '../../util/errors.ts'
import { parseAdmissionLists, type AdmissionLists } from './policy.ts'

const MAX_LIST_FILE_BYTES = 16 * 1024 * 1024

export interface ListFileRead {
  text: string
  lists: AdmissionLists
}

/** Reads and parses the list file; throws a ConfigError naming the file and the problem. */
export async function readListFile (path: string): Promise<ListFileRead> {
  const text = await readListText(path)
  return { text, lists: parseAdmissionLists(text, path) }
}

async function readListText (path: string): Promise<string> {
  try {
    const st = await stat(path)
    if (st.isDirectory()) throw new ConfigError('trust.listFile', path, 'cannot read the list file (it is a directory)')
    if (st.size > MAX_LIST_FILE_BYTES) throw new ConfigError('trust.listFile', path, `the list file is ${st.size} bytes; at most ${MAX_LIST_FILE_BYTES} are read`)
    return await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof ConfigError) throw err
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'file does not exist' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new ConfigError('trust.listFile', path, `cannot read the list file (${why})`)
  }
}

export interface ListFileWatcherOptions {
  /** New, valid lists (called only when the file's content changed). */
  onLists: (lists: AdmissionLists) => void
  /** The file could not be read or parsed; the previous lists stay in force. */
  onError: (err: PetalmeshError) => void
  /** Re-check period, for changes fs.watch misses (editors replace files, network filesystems). */
  pollMs?: number
  /** Events closer together than this are handled once. */
  debounceMs?: number
}

export interface ListFileWatcher {
  /** Re-reads the file now (what a change event triggers). Never rejects. */
  check: () => Promise<void>
  close: () => void
}

/**
 * Watches `path` (through its directory, so a file replaced by rename is still seen) and polls it.
 * `initialText` is the content already applied, so the first check does not re-apply it.
 */
export function watchListFile (path: string, initialText: string | null, opts: ListFileWatcherOptions): ListFileWatcher {
  const pollMs = opts.pollMs ?? 2000
  const debounceMs = opts.debounceMs ?? 100
  const base = basename(path)
  let lastText: string | null = initialText
  let lastErrorKey: string | null = null
  let closed = false
  let running: Promise<void> | null = null
  let rerun = false
  let debounce: NodeJS.Timeout | null = null
  let watcher: FSWatcher | null = null

  const report = (err: unknown, key: string): void => {
    if (key === lastErrorKey) return
    lastErrorKey = key
    const e = err instanceof PetalmeshError ? err : new PetalmeshError(`trust.listFile ${path}: ${err instanceof Error ? err.message : String(err)}`, { exitCode: 2, cause: err })
    try { opts.onError(e) } catch { /* the reporter must not break the watcher */ }
  }

  const checkOnce = async (): Promise<void> => {
    let text: string
    try {
      text = await readListText(path)
    } catch (err) {
      // Re-parse whatever comes back, even if it equals the last content.
      lastText = null
      report(err, `read:${err instanceof Error ? err.message : String(err)}`)
      return
    }
    if (closed || text === lastText) return
    lastText = text
    let lists: AdmissionLists
    try {
      lists = parseAdmissionLists(text, path)
    } catch (err) {
      report(err, `parse:${text}`)
      return
    }
    lastErrorKey = null
    try { opts.onLists(lists) } catch (err) { report(err, `apply:${text}`) }
  }

  const check = async (): Promise<void> => {
    if (closed) return
    if (running != null) { rerun = true; return await running }
    running = (async () => {
      // A change that arrives during a read is picked up by one more read (a few at most).
      for (let i = 0; i < 5; i++) {
        rerun = false
        await checkOnce().catch((err: unknown) => { report(err, 'unexpected') })
        if (!rerun || closed) break
      }
    })().finally(() => { running = null })
    await running
  }

  const schedule = (): void => {
    if (closed) return
    if (debounce != null) clearTimeout(debounce)
    debounce = setTimeout(() => { debounce = null; void check() }, debounceMs)
    debounce.unref()
  }

  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
      if (filename == null || filename === base) schedule()
    })
    watcher.on('error', () => {
      // The directory went away or the watch broke: polling carries on alone.
      watcher?.close()
      watcher = null
    })
  } catch {
    watcher = null
  }
  const poll = setInterval(() => { void check() }, pollMs)
  poll.unref()

  return {
    check,
    close: () => {
      closed = true
      clearInterval(poll)
      if (debounce != null) clearTimeout(debounce)
      watcher?.close()
      watcher = null
    }
  }
}
