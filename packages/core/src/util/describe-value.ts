/**
 * A short description of a bad argument for error messages: what a person would say they passed
 * ("nothing", "the number 5", "a function"), never `undefined undefined`.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)'
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`
  if (typeof value === 'bigint') return `the bigint ${value}n`
  if (typeof value === 'boolean') return String(value)
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  if (Array.isArray(value)) return 'an array'
  return 'an object'
}
