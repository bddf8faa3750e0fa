import { inspect } from 'node:util'

/**
 * Makes `console.log(target)`, `util.inspect(target)` and `JSON.stringify(target)` show `summary()`
 * only. A bus or transport holds URLs, passwords and broker clients (whose options hold them too);
 * what a developer prints while debugging must never leak them.
 */
export function showOnly(target: object, name: string, summary: () => Record<string, unknown>): void {
  Object.defineProperties(target, {
    toJSON: { value: summary, enumerable: false, configurable: true },
    [inspect.custom]: {
      value: (_depth: number, options: object) => `${name} ${inspect(summary(), options)}`,
      enumerable: false,
      configurable: true,
    },
  })
}
