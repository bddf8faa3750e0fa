#!/usr/bin/env node
import { runCli } from './program.js'

const code = await runCli(process.argv.slice(2))
// Exit at once: a broker client may keep a socket open for a moment after close().
process.exit(code)
