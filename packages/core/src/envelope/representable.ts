/** Past this depth the walk stops; JSON.stringify itself then reports cycles. */
const MAX_DEPTH = 100

/** What would be lost, and where (segments from the innermost out, filled in on the way back). */
interface Loss {
  readonly what: string
  readonly path: (string | number)[]
}

/**
 * Why `value` would not survive JSON unchanged, as "data.m is a Map …", or undefined when it would.
 * JSON.stringify drops or rewrites these silently: functions and symbols (dropped), NaN and ±Infinity
 * (null), Map, Set, WeakMap, WeakSet, RegExp and Promise ({}), and symbol-keyed properties (dropped).
 * Values with toJSON (Date → ISO string) and `undefined` properties (omitted, as JSON has no
 * undefined) are accepted. Plain data costs typeof checks and no string building: the path is made
 * only for a payload that fails.
 */
export function unrepresentable(value: unknown, root: string): string | undefined {
  const loss = find(value, 0)
  if (loss === undefined) return undefined
  let path = root
  for (let index = loss.path.length - 1; index >= 0; index -= 1) {
    const segment = loss.path[index]!
    path += typeof segment === 'number' ? `[${segment}]` : `.${segment}`
  }
  return loss.what.replace('%', path)
}

function find(value: unknown, depth: number): Loss | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : { what: `% is ${value}, which JSON turns into null`, path: [] }
    case 'bigint':
      return { what: '% is a BigInt, which JSON cannot hold: send it as a string', path: [] }
    case 'function':
      return { what: '% is a function, which JSON drops', path: [] }
    case 'symbol':
      return { what: '% is a symbol, which JSON drops', path: [] }
  }
  if (value === null || depth > MAX_DEPTH) return undefined
  const object = value as Record<string, unknown>
  if (typeof object.toJSON === 'function') return undefined
  if (Array.isArray(object)) {
    for (let index = 0; index < object.length; index += 1) {
      const loss = find(object[index], depth + 1)
      if (loss) {
        loss.path.push(index)
        return loss
      }
    }
    return undefined
  }
  // Plain objects (the common case) skip the container checks.
  const prototype = Object.getPrototypeOf(object)
  const container = prototype === Object.prototype || prototype === null ? undefined : lostContainer(object)
  if (container) {
    return {
      what: `% is a ${container}, which JSON turns into {}: convert it to an object or an array first`,
      path: [],
    }
  }
  for (const key in object) {
    const loss = find(object[key], depth + 1)
    if (loss) {
      loss.path.push(key)
      return loss
    }
  }
  const symbols = Object.getOwnPropertySymbols(object)
  if (
    symbols.length > 0 &&
    symbols.some((symbol) => Object.prototype.propertyIsEnumerable.call(object, symbol))
  ) {
    return { what: '% has a symbol-keyed property, which JSON drops', path: [] }
  }
  return undefined
}

function lostContainer(object: object): string | undefined {
  if (object instanceof Map) return 'Map'
  if (object instanceof Set) return 'Set'
  if (object instanceof WeakMap) return 'WeakMap'
  if (object instanceof WeakSet) return 'WeakSet'
  if (object instanceof RegExp) return 'RegExp'
  if (object instanceof Promise) return 'Promise'
  return undefined
}
