// Splitting a byte stream into lines. Petals' output mixes "\n" lines with "\r"-refreshed progress bars
// (tqdm), so both end a line here.

import { StringDecoder } from 'node:string_decoder'

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8')
  private buffer = ''
  private readonly maxLine: number

  constructor (maxLine = 64 * 1024) {
    this.maxLine = maxLine
  }

  /** Complete lines contained in `chunk` (without terminators). */
  push (chunk: Buffer | string): string[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    const parts = this.buffer.split(/\r\n|\r|\n/)
    this.buffer = parts.pop() ?? ''
    if (this.buffer.length > this.maxLine) {
      parts.push(this.buffer)
      this.buffer = ''
    }
    return parts
  }

  /** The unterminated rest, at end of stream. */
  end (): string[] {
    const rest = this.buffer + this.decoder.end()
    this.buffer = ''
    return rest === '' ? [] : [rest]
  }
}
