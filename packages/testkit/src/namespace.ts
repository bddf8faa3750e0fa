import { randomBytes } from 'node:crypto'

/** A random namespace for one test, so tests sharing a broker never see each other's events. */
export function newNamespace(): string {
  return `tc${Date.now().toString(36)}${randomBytes(3).toString('hex')}`
}
