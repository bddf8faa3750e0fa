import { TidingsError } from '@tidings/core'

/** RabbitMQ could not be reached (or refused the login) within connectTimeoutMs. */
export class AmqpConnectionError extends TidingsError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TIDINGS_AMQP_CONNECTION', message, options)
  }
}

/** The message of an unknown thrown value, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
