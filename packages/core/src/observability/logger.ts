/** The subset of pino's interface Tidings uses: pass pino, console, or anything shaped alike. */
export interface Logger {
  debug(object: object, message?: string): void
  info(object: object, message?: string): void
  warn(object: object, message?: string): void
  error(object: object, message?: string): void
  child?(bindings: object): Logger
}

const noop = (): void => {}

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }

/** The default: warnings and errors only, one line on stderr each. */
export const defaultLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (object, message) => console.warn(`[tidings] ${message ?? ''}`, object),
  error: (object, message) => console.error(`[tidings] ${message ?? ''}`, object),
}

export function childLogger(logger: Logger, bindings: object): Logger {
  if (logger.child) return logger.child(bindings)
  return {
    debug: (object, message) => logger.debug({ ...bindings, ...object }, message),
    info: (object, message) => logger.info({ ...bindings, ...object }, message),
    warn: (object, message) => logger.warn({ ...bindings, ...object }, message),
    error: (object, message) => logger.error({ ...bindings, ...object }, message),
  }
}
