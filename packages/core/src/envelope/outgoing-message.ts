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
}
