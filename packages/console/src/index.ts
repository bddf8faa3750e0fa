/** `@tidings/console`: the journal and dead letters in a browser. */
export { type ConsoleOptions, createConsole, type TidingsConsole } from './console.js'
