import type { Logger } from '@tidings/core/transport'

/**
 * ioredis writes a few warnings with console.warn itself (a password given to a server that needs
 * none, AUTH arguments an old server refuses), past any logger. A library must not print on its own:
 * while a transport is open, exactly those lines go to its logger instead. Everything else written
 * with console.warn passes through untouched.
 */
const IOREDIS_LINE =
  /^\[(?:WARN|ERROR)\] (?:Redis server does not require a password|This Redis server's `default` user does not require a password|The server returned "wrong number of arguments for 'auth' command")/

const loggers: Logger[] = []
let original: typeof console.warn | undefined

export function routeIoredisWarnings(logger: Logger): () => void {
  loggers.push(logger)
  if (original === undefined) {
    const passThrough = console.warn
    original = passThrough
    console.warn = (...args: unknown[]): void => {
      const [first] = args
      const logger = loggers.at(-1)
      if (logger !== undefined && typeof first === 'string' && IOREDIS_LINE.test(first)) {
        logger.warn({ source: 'ioredis' }, first.replace(/^\[(?:WARN|ERROR)\] /, ''))
        return
      }
      passThrough.apply(console, args as Parameters<typeof console.warn>)
    }
  }
  return () => {
    const index = loggers.lastIndexOf(logger)
    if (index >= 0) loggers.splice(index, 1)
    if (loggers.length === 0 && original !== undefined) {
      console.warn = original
      original = undefined
    }
  }
}
