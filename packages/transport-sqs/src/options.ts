import type { SNSClientConfig } from '@aws-sdk/client-sns'
import type { SQSClientConfig } from '@aws-sdk/client-sqs'
import { ConfigError, describeValue } from '@tidings/core/transport'

export interface SqsTransportOptions {
  /** AWS region, such as us-east-1. */
  readonly region: string
  /** Another endpoint than AWS's (an emulator, a VPC endpoint), such as http://127.0.0.1:4566. */
  readonly endpoint?: string | undefined
  /** Explicit credentials; by default the SDK's chain (environment, profile, role). Never logged. */
  readonly credentials?:
    | { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
    | undefined
  /** Prefix of every topic and queue (default "tidings"): letters, digits, "-" and "_". */
  readonly namespace?: string | undefined
  /** How long publish() keeps trying through an outage before PublishError (default 10 s). */
  readonly publishTimeoutMs?: number | undefined
  /**
   * FIFO topic and queues (names end in `.fifo`): events with the same key reach a group in publish
   * order (G14), and SNS drops a second publish of an event id within 5 minutes. A retry then hides
   * the same message until due, so it keeps its key's place but carries no attempt history (default
   * false: standard topic and queues, higher throughput, no order).
   */
  readonly fifo?: boolean | undefined
  /** Long polling: how long one ReceiveMessage waits for messages, in seconds (default 20, AWS's maximum). */
  readonly waitTimeSeconds?: number | undefined
  /** Largest encoded event (default and maximum 256 KiB less room for the attributes). */
  readonly maxMessageBytes?: number | undefined
  /** Anything else for the SDK clients (retries, HTTP handler). */
  readonly clientConfig?: Partial<SQSClientConfig & SNSClientConfig> | undefined
}

export interface ResolvedOptions {
  readonly region: string
  readonly endpoint: string | undefined
  readonly credentials: SqsTransportOptions['credentials']
  readonly namespace: string
  readonly fifo: boolean
  readonly publishTimeoutMs: number
  readonly waitTimeSeconds: number
  readonly maxMessageBytes: number
  readonly clientConfig: Partial<SQSClientConfig & SNSClientConfig>
}

/** SNS and SQS take 256 KiB per message, attributes included: room is kept for Tidings' attributes. */
export const SQS_MESSAGE_LIMIT = 256 * 1024
export const ATTRIBUTE_ROOM = 16 * 1024

export function resolveOptions(options: SqsTransportOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('sqsTransport(options) needs an object such as { region: "us-east-1" }.')
  }
  if (typeof options.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region)) {
    throw new ConfigError(
      `sqsTransport({ region }) must be an AWS region such as us-east-1, got ${describeValue(options.region)}.`,
    )
  }
  if (options.endpoint !== undefined && !/^https?:\/\/[^\s]+$/.test(options.endpoint)) {
    throw new ConfigError(
      `sqsTransport({ endpoint }) must be an http(s) URL, got ${describeValue(options.endpoint)}.`,
    )
  }
  const namespace = options.namespace ?? 'tidings'
  assertNamespace(namespace)
  return {
    region: options.region,
    endpoint: options.endpoint,
    credentials: options.credentials,
    namespace,
    fifo: flag('fifo', options.fifo),
    publishTimeoutMs: integer('publishTimeoutMs', options.publishTimeoutMs, 10_000, 1, 600_000),
    waitTimeSeconds: integer('waitTimeSeconds', options.waitTimeSeconds, 20, 0, 20),
    maxMessageBytes: integer(
      'maxMessageBytes',
      options.maxMessageBytes,
      SQS_MESSAGE_LIMIT - ATTRIBUTE_ROOM,
      1024,
      SQS_MESSAGE_LIMIT - ATTRIBUTE_ROOM,
    ),
    clientConfig: options.clientConfig ?? {},
  }
}

export function assertNamespace(namespace: unknown): asserts namespace is string {
  // Queue names take 80 characters of [A-Za-z0-9_-]; the namespace leaves room for the group.
  if (typeof namespace !== 'string' || !/^[A-Za-z0-9_-]{1,30}$/.test(namespace)) {
    throw new ConfigError(
      `The SQS namespace must be 1 to 30 letters, digits, "-" or "_" (it prefixes queue names), got ${describeValue(namespace)}.`,
    )
  }
}

function flag(name: string, value: boolean | undefined): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') {
    throw new ConfigError(`sqsTransport({ ${name} }) must be true or false, got ${describeValue(value)}.`)
  }
  return value
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `sqsTransport({ ${name} }) must be a whole number from ${min} to ${max}, got ${describeValue(value)}.`,
    )
  }
  return value
}
