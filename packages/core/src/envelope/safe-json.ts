/**
 * JSON.parse defines "__proto__" as an own property (it cannot pollute by itself), but code that
 * later spreads or merges the object would copy it onto a prototype. Such keys are dropped here.
 * The reviver is slow, so it only runs when the text mentions "proto" or "constructor" at all
 * (escaped spellings such as "\u005f_proto__" still contain "proto" after the escape).
 */
export function parseJsonSafely(text: string): unknown {
  if (!text.includes('proto') && !text.includes('constructor') && !text.includes('\\u'))
    return JSON.parse(text)
  return JSON.parse(text, dropPrototypeKeys)
}

function dropPrototypeKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined
  if (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)
    return undefined
  return value
}
