import { ConfigError, ConnectionError, PublishError, redactUrl, TidingsError } from '@tidings/core'

/** Wrong command line: exit code 2 (as commander's own usage errors). */
export class UsageError extends Error {
  readonly exitCode = 2
  override readonly name = 'UsageError'
}

/** A failure the user can act on, already worded for the terminal: exit code 1. */
export class CommandError extends Error {
  readonly exitCode = 1
  override readonly name = 'CommandError'
}

/**
 * One line for the terminal: what failed and what to check, never a stack (unless --debug) and never
 * a credential (every URL goes through redactUrl).
 */
export function describeFailure(error: unknown, url: string | undefined): { line: string; exitCode: number } {
  const where = url ? redactUrl(url) : 'the broker'
  if (error instanceof UsageError) return { line: error.message, exitCode: 2 }
  if (error instanceof CommandError) return { line: error.message, exitCode: 1 }
  if (error instanceof ConnectionError || causedBy(error, ConnectionError)) {
    return {
      line: `Cannot reach ${where}: ${messageOf(error)}`,
      exitCode: 1,
    }
  }
  if (error instanceof ConfigError) return { line: messageOf(error), exitCode: 2 }
  if (error instanceof PublishError) return { line: `${messageOf(error)} (broker: ${where})`, exitCode: 1 }
  if (error instanceof TidingsError) return { line: `${error.name}: ${messageOf(error)}`, exitCode: 1 }
  return {
    line: `Unexpected failure on ${where}: ${messageOf(error)} (run with --debug for the stack)`,
    exitCode: 1,
  }
}

function causedBy(error: unknown, kind: abstract new (...args: never[]) => Error): boolean {
  let cause = (error as { cause?: unknown } | null)?.cause
  for (let depth = 0; cause !== undefined && depth < 5; depth += 1) {
    if (cause instanceof kind) return true
    cause = (cause as { cause?: unknown } | null)?.cause
  }
  return false
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return redactText(text.replace(/\s+/g, ' ').trim())
}

/** Anything that looks like credentials in a URL inside a message is masked, whoever wrote it. */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^@/\s]+)@/gi, (_all, scheme: string, userInfo: string) => {
    const user = userInfo.split(':')[0]
    return `${scheme}${userInfo.includes(':') ? `${user}:***` : '***'}@`
  })
}
