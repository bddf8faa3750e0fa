import { ConnectionError } from '@tidings/core/transport'

/** RabbitMQ could not be reached (or refused the login) within connectTimeoutMs: core's ConnectionError. */
export class AmqpConnectionError extends ConnectionError {}

/** The message of an unknown thrown value, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
