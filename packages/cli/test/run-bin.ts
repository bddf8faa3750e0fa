import { type ChildProcess, spawn } from 'node:child_process'
import { resolve } from 'node:path'

export const BIN = resolve(import.meta.dirname, '../dist/bin.js')

export interface BinResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the built `tidings` as a shell would: no TTY, the given environment, optional stdin. */
export function tidings(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<BinResult> {
  return new Promise((done, fail) => {
    const child = start(args, options.env)
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(
        new Error(
          `tidings ${args.join(' ')} ran over ${options.timeoutMs ?? 30_000} ms\n${stdout}\n${stderr}`,
        ),
      )
    }, options.timeoutMs ?? 30_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      done({ code: code ?? -1, stdout, stderr })
    })
    child.stdin!.end(options.input ?? '')
  })
}

/** A long-running `tidings` (tail), with its output so far. */
export function startTidings(args: readonly string[], env?: NodeJS.ProcessEnv) {
  const child = start(args, env)
  const output = { stdout: '', stderr: '' }
  child.stdout!.on('data', (chunk: Buffer) => {
    output.stdout += chunk.toString('utf8')
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output.stderr += chunk.toString('utf8')
  })
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)))
  return { child, output, exited }
}

function start(args: readonly string[], env: NodeJS.ProcessEnv | undefined): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}
