import type { FastifyInstance } from 'fastify'
import { findIllFormedUnicode } from '../../core/bus/well-formed.ts'
import { HttpError } from './errors.ts'

/**
 * The only body parser: JSON in UTF-8. Other media types (text/plain included) fall
 * through to 415; a declared charset other than UTF-8 is refused rather than read as if it
 * were UTF-8; keys that would reach an object's prototype when the body is copied, and
 * strings that are not well-formed Unicode, are refused with the field that holds them.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1]
    if (charset && !/^utf-?8$/i.test(charset)) {
      done(
        new HttpError(
          415,
          'unsupported_media_type',
          'headers.content-type: the charset must be UTF-8 (or absent)',
          { field: 'headers.content-type' },
        ),
      )
      return
    }
    const text = body as string
    if (text.length === 0) {
      done(new HttpError(400, 'invalid_request', 'body: is empty', { field: 'body' }))
      return
    }
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      // The parser's own message quotes the input; it is not repeated.
      done(new HttpError(400, 'invalid_json', 'body: is not valid JSON', { field: 'body' }))
      return
    }
    const forbidden = findPrototypeKey(value, 'body')
    if (forbidden) {
      done(
        new HttpError(
          400,
          'invalid_request',
          `${forbidden}: forbidden key (__proto__ and constructor.prototype could change object prototypes)`,
          { field: forbidden },
        ),
      )
      return
    }
    const illFormed = findIllFormedUnicode(value, 'body')
    if (illFormed) {
      done(
        new HttpError(
          400,
          'invalid_request',
          `${illFormed}: must be well-formed Unicode (a lone surrogate \\ud800–\\udfff has no UTF-8 encoding)`,
          { field: illFormed },
        ),
      )
      return
    }
    done(null, value)
  })
}

/** The path of a `__proto__` key, or of a `constructor` object holding `prototype`. */
function findPrototypeKey(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findPrototypeKey(value[index], `${path}[${index}]`)
      if (found) return found
    }
    return undefined
  }
  if (value === null || typeof value !== 'object') return undefined
  for (const [key, item] of Object.entries(value)) {
    if (key === '__proto__') return `${path}.__proto__`
    if (
      key === 'constructor' &&
      item !== null &&
      typeof item === 'object' &&
      Object.hasOwn(item, 'prototype')
    )
      return `${path}.constructor.prototype`
    const found = findPrototypeKey(item, `${path}.${key.slice(0, 64)}`)
    if (found) return found
  }
  return undefined
}
