import { describe, expect, test } from 'vitest'
import { findIllFormedUnicode, isWellFormedUnicode } from './well-formed.ts'

describe('well-formed Unicode', () => {
  test('behavior: paired surrogates (an emoji) and plain text pass; a lone high or low surrogate does not', () => {
    expect(isWellFormedUnicode('0xabc')).toBe(true)
    expect(isWellFormedUnicode('bridge \u{1F309} ok')).toBe(true)
    expect(isWellFormedUnicode('x-\ud800')).toBe(false)
    expect(isWellFormedUnicode('\udc00 alone')).toBe(false)
    // Reversed pair: a low then a high surrogate is two lone ones.
    expect(isWellFormedUnicode('\udc00\ud800')).toBe(false)
  })

  test('error: the path names the first ill-formed string, in values, arrays and object keys', () => {
    expect(findIllFormedUnicode({ a: 'ok', b: ['ok', { c: '\u{1F309}' }] }, 'value')).toBeUndefined()
    expect(findIllFormedUnicode({ a: 'ok', b: ['ok', { c: 'bad\ud800' }] }, 'value')).toBe('value.b[1].c')
    expect(findIllFormedUnicode({ map: { 'k\udfff': 'v' } }, 'value')).toBe('value.map.<key>')
    expect(findIllFormedUnicode({ raw: Buffer.from([0xed, 0xa0, 0x80]) }, 'value')).toBeUndefined()
  })
})
