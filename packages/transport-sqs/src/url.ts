import { ConfigError, readUrlOptions, redactUrl, type UrlParameter } from '@tidings/core/transport'
import type { SqsTransportOptions } from './options.js'
import { sqsTransport } from './sqs-transport.js'

const PARAMETERS: Readonly<Record<string, UrlParameter>> = {
  namespace: { kind: 'string' },
  endpoint: { kind: 'string' },
  fifo: { kind: 'boolean' },
  publishTimeoutMs: { kind: 'integer', min: 1, max: 600_000 },
  waitTimeSeconds: { kind: 'integer', min: 0, max: 20 },
}

/**
 * `TIDINGS_URL=sqs://us-east-1?namespace=shop` (credentials from the SDK's chain), or
 * `sqs://us-east-1?endpoint=http://127.0.0.1:4566` for an emulator, `&fifo=true` for FIFO topic and queues.
 */
export function createTransportFromUrl(url: string) {
  return sqsTransport(transportOptionsFromUrl(url))
}

export function transportOptionsFromUrl(url: string): SqsTransportOptions {
  if (typeof url !== 'string')
    throw new ConfigError('The SQS URL must be a string such as "sqs://us-east-1".')
  const { options, url: parsed } = readUrlOptions(
    url,
    'SQS',
    PARAMETERS,
    [],
    'Write it as sqs://<region>?namespace=…&endpoint=… (credentials come from the AWS SDK, never the URL).',
  )
  if (parsed.protocol !== 'sqs:') {
    throw new ConfigError(
      `The SQS URL must start with sqs://; got "${parsed.protocol}//" in ${redactUrl(url)}.`,
    )
  }
  if (parsed.username || parsed.password) {
    throw new ConfigError(
      'The SQS URL must not carry credentials: the AWS SDK reads them from the environment, a profile or a role.',
    )
  }
  return { ...(options as Partial<SqsTransportOptions>), region: parsed.hostname }
}
