import type { ConformanceCapabilities } from './capabilities.js'

/** Suffix naming the capability a test needs, so a skipped test says why it was skipped. */
export function needs(
  h: { readonly capabilities: ConformanceCapabilities },
  capability: keyof ConformanceCapabilities,
): string {
  return h.capabilities[capability] ? '' : ` [skipped: capability "${capability}" not declared]`
}
