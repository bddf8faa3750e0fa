import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What a rule does with one request: answer it itself, or pass it on (maybe changed). */
export type FaultDecision =
  | {
      readonly answer: { readonly status: number; readonly body: string; readonly contentType?: string }
    }
  | {
      readonly forward: string
      /** Changes the endpoint's answer before the client sees it. */
      readonly rewriteAnswer?: (body: string) => string
    }
  | undefined

/** The API action of a request: `Action=` of the query protocol (SNS), `X-Amz-Target` of JSON (SQS). */
export type FaultRule = (action: string, body: string) => FaultDecision

/**
 * An HTTP proxy in front of the emulator that injects the faults AWS produces and an emulator does
 * not: throttling, and a batch entry failing alone. The AWS SDK speaks to it as to AWS; the emulator
 * does the real work. (It changes request bodies after the SDK signed them: the emulator does not
 * check signatures.)
 */
export class FaultProxy {
  private rules: FaultRule[] = []
  readonly actions: string[] = []

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string): Promise<FaultProxy> {
    const upstream = new URL(target)
    let proxy: FaultProxy | undefined
    const server = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = []
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
      incoming.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const target = incoming.headers['x-amz-target']
        const action =
          (typeof target === 'string' ? target.split('.').pop() : undefined) ??
          new URLSearchParams(body).get('Action') ??
          'unknown'
        proxy!.actions.push(action)
        let decision: FaultDecision
        for (const rule of proxy!.rules) {
          decision = rule(action, body)
          if (decision) break
        }
        if (decision && 'answer' in decision) {
          outgoing.writeHead(decision.answer.status, {
            'content-type': decision.answer.contentType ?? 'text/xml',
          })
          outgoing.end(decision.answer.body)
          return
        }
        const forward = decision?.forward ?? body
        const headers = { ...incoming.headers, 'content-length': String(Buffer.byteLength(forward)) }
        const onward = request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: incoming.method,
            path: incoming.url,
            headers,
          },
          (answer) => {
            const answerChunks: Buffer[] = []
            answer.on('data', (chunk: Buffer) => answerChunks.push(chunk))
            answer.on('end', () => {
              let text = Buffer.concat(answerChunks).toString('utf8')
              if (decision && 'rewriteAnswer' in decision && decision.rewriteAnswer)
                text = decision.rewriteAnswer(text)
              const { 'content-length': _length, 'transfer-encoding': _encoding, ...rest } = answer.headers
              outgoing.writeHead(answer.statusCode ?? 502, {
                ...rest,
                'content-length': String(Buffer.byteLength(text)),
              })
              outgoing.end(text)
            })
          },
        )
        onward.on('error', () => outgoing.destroy())
        onward.end(forward)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    proxy = new FaultProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    return proxy
  }

  /** Rules are asked in order; the first that decides wins. */
  use(rule: FaultRule): void {
    this.rules.push(rule)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** SNS's (query protocol) error answer, as AWS sends it. */
export function snsError(code: string, message: string, type: 'Sender' | 'Receiver' = 'Sender'): string {
  return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>`
}

/**
 * A PublishBatch rule that takes the entries whose message contains `marker` out of the batch (the
 * emulator never sees them) and answers for them as SNS does for an entry that failed alone.
 */
export function failEntries(
  marker: string,
  failure: { readonly code: string; readonly senderFault: boolean },
  counter: { failed: number; readonly limit?: number },
): FaultRule {
  return (action, body) => {
    if (action !== 'PublishBatch' || counter.failed >= (counter.limit ?? Number.POSITIVE_INFINITY))
      return undefined
    const form = new URLSearchParams(body)
    const prefix = 'PublishBatchRequestEntries.member.'
    const members = new Map<number, [string, string][]>()
    const rest: [string, string][] = []
    for (const [key, value] of form) {
      const match = key.startsWith(prefix) ? /^(\d+)\.(.*)$/.exec(key.slice(prefix.length)) : null
      if (!match) rest.push([key, value])
      else {
        const index = Number(match[1])
        members.set(index, [...(members.get(index) ?? []), [match[2]!, value]])
      }
    }
    const failedIds: string[] = []
    const kept: [string, string][][] = []
    for (const index of [...members.keys()].sort((a, b) => a - b)) {
      const fields = members.get(index)!
      const message = fields.find(([name]) => name === 'Message')?.[1] ?? ''
      if (message.includes(marker)) failedIds.push(fields.find(([name]) => name === 'Id')![1])
      else kept.push(fields)
    }
    if (failedIds.length === 0) return undefined
    counter.failed += failedIds.length
    const forward = new URLSearchParams(rest)
    kept.forEach((fields, position) => {
      for (const [name, value] of fields) forward.append(`${prefix}${position + 1}.${name}`, value)
    })
    const failedXml = failedIds
      .map(
        (id) =>
          `<member><Id>${id}</Id><Code>${failure.code}</Code><Message>injected by the test</Message><SenderFault>${failure.senderFault}</SenderFault></member>`,
      )
      .join('')
    if (kept.length === 0) {
      return {
        answer: {
          status: 200,
          body: `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful></Successful><Failed>${failedXml}</Failed></PublishBatchResult><ResponseMetadata><RequestId>fault-proxy</RequestId></ResponseMetadata></PublishBatchResponse>`,
        },
      }
    }
    return {
      forward: forward.toString(),
      rewriteAnswer: (answer) =>
        answer.replace(
          /<Failed>(.*?)<\/Failed>|<Failed\/>/s,
          (_whole, inner = '') => `<Failed>${inner}${failedXml}</Failed>`,
        ),
    }
  }
}

/** SQS's (JSON protocol) error answer, as AWS sends it. */
export function sqsError(code: string, message: string): FaultDecision {
  return {
    answer: {
      status: 400,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message }),
    },
  }
}
