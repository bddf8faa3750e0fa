import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    sqsEndpoint: string
  }
}

/**
 * Vitest globalSetup of the `sqs` project: the fauxqs SQS/SNS emulator (1.9.2, the last release that
 * loads on Node 20), in-process on a free port. The AWS SDK speaks real HTTP to it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { startFauxqs } = await import('fauxqs')
  const server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' })
  project.provide('sqsEndpoint', `http://127.0.0.1:${server.port}`)
  return () => server.stop()
}
