/**
 * Strings that are not well-formed Unicode — a lone surrogate (U+D800–U+DFFF without its
 * pair) — have no UTF-8 encoding: Node writes them as the bytes of the surrogate itself
 * (ED A0 80), which no conforming decoder accepts, so another language's Avro client cannot
 * read the record. They are refused before they are encoded.
 */

export function isWellFormedUnicode(value: string): boolean {
  // V8's own scan (String.prototype.isWellFormed, ES2024): a third of the time of the two
  // regular expressions it replaces, on every string of every record the bus encodes.
  return value.isWellFormed()
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
  if (Array.isArray(value)) {
    for (const item of value) if (!allWellFormed(item)) return false
    return true
  }
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    // for…in, not Object.keys: no array of keys allocated per object of every record.
    for (const key in value) {
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
    // The same keys allWellFormed walks (for…in), so a value it refuses always has a path.
    for (const key in value) {
      if (!isWellFormedUnicode(key)) return `${path}.<key>`
      const found = pathOfIllFormed((value as Record<string, unknown>)[key], `${path}.${key.slice(0, 64)}`)
      if (found) return found
    }
  }
  return undefined
}
