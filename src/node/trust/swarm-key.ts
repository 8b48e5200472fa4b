// Private swarms: a libp2p pre-shared key (pnet). Every connection is encrypted with it before
// Noise starts, so a node without the key cannot even complete a handshake.
//
// Key text (the format go-ipfs/kubo and js-libp2p use):
//   /key/swarm/psk/1.0.0/
//   /base16/
//   <64 hex digits>
// The key comes from a file (config key trust.swarmKeyFile) or the environment
// (PETALMESH_SECRET_SWARM_KEY), never from command-line arguments.
import { createHash, randomBytes } from 'node:crypto'
import { open, readFile, stat, link, rename, rm, chmod, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { generateKey } from '@libp2p/pnet'
import { ConfigError, UsageError } from '../../util/errors.ts'

export const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/'
export const SWARM_KEY_CODEC = '/base16/'
export const SWARM_KEY_ENV = 'PETALMESH_SECRET_SWARM_KEY'
/** Length of the canonical key text: header, codec, 64 hex digits, two newlines. */
export const SWARM_KEY_TEXT_LENGTH = 95
const MAX_KEY_FILE_BYTES = 4096

export interface LoadedSwarmKey {
  /** Canonical key text as bytes (what `preSharedKey({ psk })` takes). */
  psk: Uint8Array
  /** Where it came from: `file:<path>` or `env:PETALMESH_SECRET_SWARM_KEY`. */
  source: string
  /** Short hash of the key: tells operators whether two nodes share a key without revealing it. */
  fingerprint: string
  /** Set when the key file is accessible by group or others. */
  warning?: string
}

/** A fresh random swarm key, as text (no trailing newline). */
export function generateSwarmKey (): string {
  const buf = new Uint8Array(SWARM_KEY_TEXT_LENGTH)
  generateKey(buf)
  return new TextDecoder().decode(buf)
}

/** sha256 of the canonical key text, first 8 bytes in hex. */
export function swarmKeyFingerprint (psk: Uint8Array): string {
  return createHash('sha256').update(psk).digest('hex').slice(0, 16)
}

/** What is wrong with a swarm key text, or null when it is well formed. Never quotes the secret. */
export function swarmKeyProblem (text: string): string | null {
  const tokens = tokenize(text)
  if (tokens.length === 0) return 'it is empty; generate a key with `petalmesh swarm-key`'
  if (tokens[0] !== SWARM_KEY_HEADER) {
    if (/^[0-9a-fA-F]{16,}$/.test(tokens[0])) return `it holds only hex digits; a swarm key has three lines: ${SWARM_KEY_HEADER}, ${SWARM_KEY_CODEC}, then the 64 hex digits`
    return `line 1 must be ${SWARM_KEY_HEADER} (found ${quoteShort(tokens[0])})`
  }
  if (tokens.length < 2) return `line 2 must be ${SWARM_KEY_CODEC} (the key is missing)`
  if (tokens[1] !== SWARM_KEY_CODEC) return `line 2 must be ${SWARM_KEY_CODEC} (found ${quoteShort(tokens[1])}); only base16 keys are supported`
  if (tokens.length < 3) return 'line 3 must hold the key: 64 hex digits (it is missing)'
  const hex = tokens[2]
  if (!/^[0-9a-fA-F]*$/.test(hex)) return 'line 3 must be 64 hex digits (0-9, a-f); it holds other characters'
  if (hex.length !== 64) return `line 3 must be 64 hex digits (32 bytes); it has ${hex.length}`
  if (tokens.length > 3) return 'unexpected content after the key (line 4 and beyond must be empty)'
  return null
}

/**
 * Parses and validates a swarm key; returns the canonical key text as bytes.
 * `where` names the config key (or variable) and source for the error, which never quotes the key.
 */
export function parseSwarmKey (text: string, where: { key: string, value?: unknown, source?: string } = { key: 'swarm key' }): Uint8Array {
  const problem = swarmKeyProblem(text)
  if (problem != null) throw new ConfigError(where.key, where.value, `not a valid swarm key: ${problem}`, where.source)
  const [header, codec, hex] = tokenize(text)
  return new TextEncoder().encode(`${header}\n${codec}\n${hex.toLowerCase()}`)
}

/**
 * Loads the swarm key from the environment (PETALMESH_SECRET_SWARM_KEY, the key's text) or a file.
 * Returns null when neither is set. When both are set they must hold the same key.
 */
export async function loadSwarmKey (opts: { file?: string, env?: NodeJS.ProcessEnv }): Promise<LoadedSwarmKey | null> {
  const env = opts.env ?? process.env
  const envText = env[SWARM_KEY_ENV]
  const fromEnv = envText != null && envText.trim() !== ''
    ? parseSwarmKey(envText, { key: SWARM_KEY_ENV, source: 'environment' })
    : null
  const file = opts.file != null && opts.file.trim() !== '' ? opts.file : null
  if (file == null) {
    return fromEnv == null ? null : { psk: fromEnv, source: `env:${SWARM_KEY_ENV}`, fingerprint: swarmKeyFingerprint(fromEnv) }
  }
  const fromFile = await readSwarmKeyFile(file)
  if (fromEnv != null && !equalBytes(fromEnv, fromFile.psk)) {
    throw new ConfigError('trust.swarmKeyFile', file, `the key in this file differs from the one in ${SWARM_KEY_ENV}; set only one of them`)
  }
  return fromFile
}

/** Reads and validates a swarm key file; warns (in the result) when group or others can access it. */
export async function readSwarmKeyFile (path: string): Promise<LoadedSwarmKey> {
  const bad = (allowed: string): ConfigError => new ConfigError('trust.swarmKeyFile', path, allowed)
  let mode: number
  let size: number
  try {
    const st = await stat(path)
    if (st.isDirectory()) throw bad('cannot read the swarm key file (it is a directory)')
    mode = st.mode
    size = st.size
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw bad(`cannot read the swarm key file (${ioReason(err)}); generate one with \`petalmesh swarm-key --out ${path}\``)
  }
  if (size > MAX_KEY_FILE_BYTES) throw bad(`not a valid swarm key: the file is ${size} bytes, far more than a swarm key (95)`)
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw bad(`cannot read the swarm key file (${ioReason(err)})`)
  }
  const psk = parseSwarmKey(text, { key: 'trust.swarmKeyFile', value: path })
  const loaded: LoadedSwarmKey = { psk, source: `file:${path}`, fingerprint: swarmKeyFingerprint(psk) }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    loaded.warning = `swarm key file ${path} is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); whoever reads it can join the private swarm. Run: chmod 600 ${path}`
  }
  return loaded
}

/**
 * Writes a swarm key file atomically with mode 0600: a temporary sibling is written and synced,
 * then linked into place (which fails if the target exists) or, with `force`, renamed over it.
 * Readers never see a partial key, and an existing key is never replaced by accident.
 */
export async function writeSwarmKeyFile (path: string, keyText: string, opts: { force?: boolean } = {}): Promise<void> {
  const problem = swarmKeyProblem(keyText)
  if (problem != null) throw new UsageError(`refusing to write an invalid swarm key: ${problem}`)
  const existing = await stat(path).catch(() => null)
  if (existing?.isDirectory() === true) throw new UsageError(`${path} is a directory; pass a file path to --out`)
  if (existing != null && opts.force !== true) {
    throw new UsageError(`${path} already exists; refusing to overwrite a swarm key (nodes still using it would be locked out). Pass --force to replace it`)
  }
  const dir = dirname(path)
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  let fh: FileHandle
  try {
    fh = await open(tmp, 'wx', 0o600)
  } catch (err) {
    throw new UsageError(`cannot create a file in ${dir} (${ioReason(err)})`, err)
  }
  try {
    // The umask can only remove permission bits, but make the mode explicit anyway.
    await fh.chmod(0o600)
    await fh.writeFile(keyText.endsWith('\n') ? keyText : keyText + '\n')
    await fh.sync()
    await fh.close()
  } catch (err) {
    await fh.close().catch(() => {})
    await rm(tmp, { force: true })
    throw new UsageError(`cannot write ${tmp} (${ioReason(err)})`, err)
  }
  try {
    if (opts.force === true) {
      await rename(tmp, path)
    } else {
      try {
        // link() refuses an existing target: no window in which a concurrent writer is overwritten.
        await link(tmp, path)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EEXIST') throw new UsageError(`${path} already exists; refusing to overwrite a swarm key (nodes still using it would be locked out). Pass --force to replace it`)
        // Filesystems without hard links: the existence check above has to do.
        if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
          await rename(tmp, path)
          return
        }
        throw new UsageError(`cannot create ${path} (${ioReason(err)})`, err)
      }
      await rm(tmp, { force: true })
    }
    await chmod(path, 0o600).catch(() => {})
  } finally {
    await rm(tmp, { force: true }).catch(() => {})
  }
}

// ---- helpers ----

/** Splits key text into its parts: lines or whitespace; a literal `\n` (from env files) counts as a newline. */
function tokenize (text: string): string[] {
  return text.replace(/^\uFEFF/, '').replace(/\\n/g, '\n').split(/\s+/).filter(t => t !== '')
}

function quoteShort (s: string): string {
  if (/^[0-9a-fA-F]{16,}$/.test(s)) return 'hex digits'
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

function ioReason (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'ENOENT': return 'file does not exist'
    case 'EACCES': case 'EPERM': return 'permission denied'
    case 'EISDIR': return 'is a directory'
    case 'ENOTDIR': return 'a parent is not a directory'
    default: return err instanceof Error ? err.message : String(err)
  }
}
