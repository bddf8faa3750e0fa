/** `@tidings/cli`: the `tidings` command, also callable from code (tests, scripts). */
export { type BenchOptions, type BenchResult, benchCommand } from './commands/bench.js'
export { demoCommand } from './commands/demo.js'
export { type RunContext, runCli } from './program.js'
export type { Terminal } from './terminal.js'
