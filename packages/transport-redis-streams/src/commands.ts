import { type Cluster, Command, type Redis } from 'ioredis'

type Arg = string | Buffer | number

/**
 * Sends a command whose reply should keep Buffers (entry bodies are bytes). Goes through
 * sendCommand, not callBuffer: ioredis 5's auto-pipelining drops the command name of callBuffer
 * (it only re-adds it for `call`), and a user's client may have auto-pipelining on.
 */
export function sendBuffer(client: Redis | Cluster, name: string, ...args: Arg[]): Promise<unknown> {
  return client.sendCommand(new Command(name, args, { replyEncoding: null })) as Promise<unknown>
}
