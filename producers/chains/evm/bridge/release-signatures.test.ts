import { randomBytes } from 'node:crypto'
import { hexlify, keccak256, recoverAddress, SigningKey, toBeHex } from 'ethers'
import { describe, expect, test } from 'vitest'
import { recoverGuardianSignatures } from './release-signatures.ts'

/**
 * The guard recovers signers with libsecp256k1 instead of ethers' JavaScript curve; ethers'
 * `recoverAddress` is the reference it must agree with on every input, valid or hostile.
 */
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** What ethers says: the signer, or that there is none. */
function reference(signed: string, signature: string): string | 'refused' {
  try {
    return recoverAddress(signed, signature)
  } catch {
    return 'refused'
  }
}

/** What the guard says, read from its verdict on a one-guardian set holding `expected`. */
function guard(signed: string, signature: string, expected: string | 'refused'): string | 'refused' {
  const guardians = expected === 'refused' ? [] : [expected]
  const { validSigners, problems } = recoverGuardianSignatures({
    signed,
    signatures: [signature],
    guardians,
    setLabel: 'in the test',
  })
  if (validSigners.length === 1) return validSigners[0]!
  const stranger = problems[0]?.match(/recovers to (0x[0-9a-fA-F]{40})/)
  if (stranger) return stranger[1]!
  expect(problems[0]).toMatch(/^signature #0 does not recover \(/)
  return 'refused'
}

const word = (value: bigint) => toBeHex(value, 32).slice(2)
const withByte = (signature: string, index: number, byte: number) =>
  `${signature.slice(0, 2 + index * 2)}${byte.toString(16).padStart(2, '0')}${signature.slice(4 + index * 2)}`

describe('guardian signature recovery agrees with ethers', () => {
  const keys = Array.from({ length: 8 }, () => new SigningKey(hexlify(randomBytes(32))))
  const cases: { signed: string; signature: string }[] = []
  for (let i = 0; i < 64; i++) {
    const key = keys[i % keys.length]!
    const signed = keccak256(randomBytes(32))
    cases.push({ signed, signature: key.sign(signed).serialized })
  }

  test('valid signatures recover to their signer', () => {
    for (const { signed, signature } of cases) {
      const expected = reference(signed, signature)
      expect(expected).not.toBe('refused')
      expect(guard(signed, signature, expected)).toBe(expected)
    }
  })

  test('v as 0/1, and v outside what ethers takes', () => {
    for (const { signed, signature } of cases.slice(0, 16)) {
      const v = Number.parseInt(signature.slice(-2), 16)
      for (const other of [v - 27, 55 - v, 0x1d, 0x02, 0xff]) {
        const tampered = withByte(signature, 64, other)
        const expected = reference(signed, tampered)
        expect(guard(signed, tampered, expected)).toBe(expected)
      }
    }
  })

  test('tampered digest, r and s recover to strangers or not at all, as in ethers', () => {
    let strangers = 0
    for (const { signed, signature } of cases) {
      for (const [message, sig] of [
        [withByte(signed, 5, 0x42), signature],
        [signed, withByte(signature, 7, 0x13)],
        [signed, withByte(signature, 40, 0x77)],
      ] as const) {
        const expected = reference(message, sig)
        if (expected !== 'refused') strangers++
        expect(guard(message, sig, expected)).toBe(expected)
      }
    }
    // Most tampered r values are still an x coordinate of some point: the recovery is a stranger.
    expect(strangers).toBeGreaterThan(0)
  })

  test('r or s zero, at or past the curve order, s with its top bit set, the malleable twin', () => {
    const { signed, signature } = cases[0]!
    const r = BigInt(`0x${signature.slice(2, 66)}`)
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const v = signature.slice(130)
    const forms = [
      [0n, s],
      [r, 0n],
      [CURVE_ORDER, s],
      [CURVE_ORDER + 1n, s],
      // High half, top bit clear: ethers (and so the guard) recovers it; the gateway would not.
      [r, 2n ** 255n - 1n],
      [r, 2n ** 255n + 1n],
      [r, CURVE_ORDER - s],
    ]
    const outcomes = forms.map(([formR, formS]) => {
      const tampered = `0x${word(formR!)}${word(formS!)}${v}`
      const expected = reference(signed, tampered)
      expect(guard(signed, tampered, expected)).toBe(expected)
      return expected
    })
    // Refused by both: zero, order-sized, top-bit s, and the malleable twin n − s of a low s
    // (its top bit is set, as for nearly all of the high half: the gateway refuses it too).
    expect(outcomes.filter((outcome) => outcome === 'refused')).toHaveLength(6)
    expect(outcomes[4]).not.toBe('refused')
  })
})
