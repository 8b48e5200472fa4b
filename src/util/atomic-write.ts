import { open, rename, rm } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * write a temporary sibling with the final mode, fsync it, then rename over the target.
 * The mode is set at creation, so a secret is never readable by others, even briefly.
 */
export async function writeFileAtomic (path: string, data: Uint8Array | string, opts: { mode?: number } = {}): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', opts.mode ?? 0o644)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  try {
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
