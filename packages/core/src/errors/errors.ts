/**
 * Every error Tidings throws on purpose is a TidingsError with a stable `code`, so callers can
 * branch on `instanceof` or on `code` without parsing messages. Messages say what to fix.
 */
export class TidingsError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** A name, pattern, option or URL given to Tidings is invalid. Thrown at the call that received it. */
export class ConfigError extends TidingsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIDINGS_CONFIG', message, options)
  }
}

/** `createBus({ url })` names a transport whose package is not installed. */
export class TransportNotInstalledError extends ConfigError {
  readonly packageName: string

  constructor(packageName: string, scheme: string, cause?: unknown) {
    super(
      `The URL scheme "${scheme}:" needs the package ${packageName}: install ${packageName} (npm install ${packageName}).`,
      { cause },
    )
    this.packageName = packageName
  }
}

/** `sendToGroup` (or `bus.sendToGroup`) names a group the namespace does not have. */
export class GroupNotFoundError extends TidingsError {
  readonly group: string

  constructor(group: string, transport: string) {
    super(
      'TIDINGS_GROUP_NOT_FOUND',
      `The ${transport} transport has no consumer group "${group}" in its namespace: check the name (\`tidings groups\` lists them), or start its listener once so the group exists.`,
    )
    this.group = group
  }
}

/** Two listeners of one service share a name, so they would share one consumer group. */
export class DuplicateListenerError extends TidingsError {
  constructor(service: string, listener: string) {
    super(
      'TIDINGS_DUPLICATE_LISTENER',
      `Service "${service}" already has a listener named "${listener}" (consumer group "${service}-${listener}"): give each listener its own name.`,
    )
  }
}

/**
 * The transport could not connect to its broker (at start(), or when a publish or dead-letter call
 * needed a connection). `authentication` is true when the broker refused the credentials: waiting
 * will not help, fixing them will. A publish that fails this way rejects with a PublishError whose
 * `cause` is this error.
 */
export class ConnectionError extends TidingsError {
  readonly authentication: boolean

  constructor(message: string, options?: { cause?: unknown; authentication?: boolean }) {
    super(options?.authentication ? 'TIDINGS_AUTHENTICATION' : 'TIDINGS_CONNECTION', message, options)
    this.authentication = options?.authentication ?? false
  }
}

/** The broker did not accept an event durably, or the event could not be sent at all. */
export class PublishError extends TidingsError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'TIDINGS_PUBLISH', message, options)
  }
}

/** The payload cannot become JSON (BigInt, a cycle, a function at the top). Nothing was sent. */
export class SerializationError extends PublishError {
  constructor(eventType: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(
      `The payload of "${eventType}" cannot be serialised to JSON (${reason}): send plain data (strings, numbers, booleans, arrays, objects; convert BigInt to string, break cycles).`,
      { cause, code: 'TIDINGS_SERIALIZATION' },
    )
  }
}

/** The encoded event is larger than the transport accepts. Nothing was sent. */
export class PayloadTooLargeError extends PublishError {
  readonly sizeBytes: number
  readonly limitBytes: number

  /** `limitName`: whose limit it is, such as "the bus's maxEventBytes" or "the nats transport's maximum". */
  constructor(eventType: string, sizeBytes: number, limitBytes: number, limitName: string) {
    super(
      `The event "${eventType}" encodes to ${sizeBytes} bytes, over ${limitName} of ${limitBytes} bytes: send a reference (an id or a URL) instead of the data${limitName.includes('maxEventBytes') ? ', or raise createBus({ maxEventBytes }) if every broker you run on takes more' : ''}.`,
      { code: 'TIDINGS_PAYLOAD_TOO_LARGE' },
    )
    this.sizeBytes = sizeBytes
    this.limitBytes = limitBytes
  }
}

/** A payload failed the Standard Schema validator registered for its event name. */
export class ValidationError extends TidingsError {
  readonly issues: readonly { message: string; path?: readonly unknown[] }[]

  constructor(eventType: string, issues: readonly { message: string; path?: readonly unknown[] }[]) {
    const summary = issues
      .slice(0, 5)
      .map((issue) => (issue.path?.length ? `${issue.path.map(String).join('.')}: ` : '') + issue.message)
      .join('; ')
    super(
      'TIDINGS_VALIDATION',
      `The payload of "${eventType}" does not match its schema: ${summary}. Fix the payload or the schema.`,
    )
    this.issues = issues
  }
}

/** A message on the wire is not a Tidings/CloudEvents envelope. It goes to the dead-letter queue. */
export class DecodeError extends TidingsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIDINGS_DECODE', message, options)
  }
}

/** The bus or transport is closed (or closing): create a new bus to publish or listen again. */
export class TransportClosedError extends TidingsError {
  constructor(operation: string) {
    super('TIDINGS_CLOSED', `Cannot ${operation}: the bus is closed. Create a new bus with createBus().`)
  }
}

/** A handler ran past its `timeoutMs`; recorded in the attempt history like any failure. */
export class HandlerTimeoutError extends TidingsError {
  constructor(timeoutMs: number) {
    super(
      'TIDINGS_HANDLER_TIMEOUT',
      `The handler did not finish within timeoutMs=${timeoutMs} ms; ctx.signal was aborted. Make the handler faster, honour ctx.signal, or raise timeoutMs.`,
    )
  }
}

/** A delivery came back more times than `maxAttempts` allows without the handler ever failing:
 * the process handling it died each time (a crash loop). */
export class CrashLoopError extends TidingsError {
  constructor(attempt: number, maxAttempts: number) {
    super(
      'TIDINGS_CRASH_LOOP',
      `The event was delivered ${attempt} times (maxAttempts=${maxAttempts}) and no handler ever settled it: the consuming process died or stalled while handling it each time.`,
    )
  }
}
