/**
 * Strings that are not well-formed Unicode — a lone surrogate (U+D800–U+DFFF without its
 * pair) — have no UTF-8 encoding: Node writes them as the bytes of the surrogate itself
 * (ED A0 80), which no conforming decoder accepts, so another language's Avro client cannot
 * read the record. They are refused before they are encoded.
 */

const ANY_SURROGATE = /[\uD800-\uDFFF]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

export function isWellFormedUnicode(value: string): boolean {
  // Most strings hold no surrogate at all: the cheap test settles them.
  return !ANY_SURROGATE.test(value) || !LONE_SURROGATE.test(value)
}

/**
 * The path of the first ill-formed string in a JSON-like value (object keys included),
 * e.g. `body.inputs.secret[1]`; undefined when every string is well-formed.
 *
 * The codec runs this on every record it encodes: the common case is answered by a walk
 * that builds no path strings, and paths are built only for a value that has a problem.
 */
export function findIllFormedUnicode(value: unknown, path: string): string | undefined {
  return allWellFormed(value) ? undefined : pathOfIllFormed(value, path)
}

function allWellFormed(value: unknown): boolean {
  if (typeof value === 'string') return isWellFormedUnicode(value)
  if (Array.isArray(value)) return value.every(allWellFormed)
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const key of Object.keys(value)) {
      if (!isWellFormedUnicode(key) || !allWellFormed((value as Record<string, unknown>)[key])) return false
    }
  }
  return true
}

function pathOfIllFormed(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return isWellFormedUnicode(value) ? undefined : path
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = pathOfIllFormed(value[index], `${path}[${index}]`)
      if (found) return found
    }
    return undefined
  }
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [key, item] of Object.entries(value)) {
      const keyPath = `${path}.${isWellFormedUnicode(key) ? key.slice(0, 64) : '<key>'}`
      if (!isWellFormedUnicode(key)) return keyPath
      const found = pathOfIllFormed(item, keyPath)
      if (found) return found
    }
  }
  return undefined
}
