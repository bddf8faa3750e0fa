import type { OutgoingMessage } from '../transport/transport.js'

/** An encoded event on its way to a transport: text now, bytes only if the transport asks. */
export class EncodedMessage implements OutgoingMessage {
  private bytes: Buffer | undefined

  constructor(
    readonly id: string,
    readonly type: string,
    readonly key: string | undefined,
    readonly text: string,
  ) {}

  get body(): Buffer {
    this.bytes ??= Buffer.from(this.text)
    return this.bytes
  }

  get byteLength(): number {
    return this.bytes?.length ?? Buffer.byteLength(this.text)
  }

  /**
   * Whether the encoded event exceeds `limit` bytes. UTF-8 takes at most 3 bytes per UTF-16 code
   * unit, so text well under the limit is never counted byte by byte (a full scan of every event).
   */
  exceeds(limit: number): boolean {
    if (this.bytes === undefined && this.text.length * 3 <= limit) return false
    return this.byteLength > limit
  }
}
