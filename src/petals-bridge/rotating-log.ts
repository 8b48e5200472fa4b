// A size-rotated log file: `petals.log`, then `petals.log.1` ... `petals.log.<maxFiles>`.

import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

export interface RotatingLogOptions {
  maxBytes: number
  maxFiles: number
}

export class RotatingLogFile {
  readonly path: string
  private readonly opts: RotatingLogOptions
  private fd: number | null = null
  private size = 0

  constructor (path: string, opts: RotatingLogOptions) {
    this.path = path
    this.opts = opts
    mkdirSync(dirname(path), { recursive: true })
  }

  /** Append one line (a newline is added). Errors are swallowed: logging must never take the node down. */
  write (line: string): void {
    try {
      const data = Buffer.from(line + '\n', 'utf8')
      if (this.fd == null) this.open()
      if (this.size > 0 && this.size + data.length > this.opts.maxBytes) this.rotate()
      writeSync(this.fd as number, data)
      this.size += data.length
    } catch {
      // disk full, permissions: the node's own logger still has the line
    }
  }

  close (): void {
    if (this.fd != null) {
      try {
        closeSync(this.fd)
      } catch {}
      this.fd = null
    }
  }

  private open (): void {
    this.fd = openSync(this.path, 'a', 0o640)
    this.size = fstatSync(this.fd).size
  }

  private rotate (): void {
    this.close()
    const oldest = `${this.path}.${this.opts.maxFiles}`
    if (existsSync(oldest)) rmSync(oldest, { force: true })
    for (let i = this.opts.maxFiles - 1; i >= 1; i--) {
      const from = `${this.path}.${i}`
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`)
    }
    renameSync(this.path, `${this.path}.1`)
    this.open()
  }
}
