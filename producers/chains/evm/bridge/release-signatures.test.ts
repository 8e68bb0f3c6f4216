import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import {
  AbiCoder,
  computeAddress,
  getBytes,
  hashMessage,
  hexlify,
  id,
  keccak256,
  recoverAddress,
  SigningKey,
  toBeHex,
  Wallet,
} from 'ethers'
import { beforeAll, describe, expect, test } from 'vitest'
import { RUST_ADDON_BUILD_SCRIPT } from '../../../../core/native/rust-addon.ts'
import {
  messageIdOf,
  RELEASE_MODES,
  recoverGuardianSignatures,
  recoverSignersOfMany,
  signatureRecovery,
  signedDigest,
  signerRecoveries,
} from './release-signatures.ts'

/**
 * The guard recovers signers with libsecp256k1 instead of ethers' JavaScript curve, natively
 * when the addon is built and in WebAssembly otherwise; ethers' `recoverAddress` is the
 * reference each must agree with on every input, valid or hostile.
 */
type Recovery = typeof signerRecoveries.wasm
const recoveries: Record<'wasm' | 'native', () => Recovery> = {
  wasm: () => signerRecoveries.wasm,
  native: () => signerRecoveries.native(),
}

beforeAll(async () => {
  // Built once per source and machine (about half a minute the first time, then a lookup);
  // asynchronous so the worker keeps answering Vitest while cargo runs. A failed build fails
  // the native half below.
  await promisify(execFile)('bash', [RUST_ADDON_BUILD_SCRIPT, 'evm-native'], { maxBuffer: 16 << 20 })
}, 300_000)
const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** What ethers says: the signer, or that there is none. */
function reference(signed: string, signature: string): string | 'refused' {
  try {
    return recoverAddress(signed, signature)
  } catch {
    return 'refused'
  }
}

let recoverSigner: Recovery
/** What the guard says, read from its verdict on a one-guardian set holding `expected`. */
function guard(signed: string, signature: string, expected: string | 'refused'): string | 'refused' {
  const guardians = expected === 'refused' ? [] : [expected]
  const { validSigners, problems } = recoverGuardianSignatures({
    signed,
    signatures: [signature],
    guardians,
    setLabel: 'in the test',
    recoverSigner,
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

describe.each(['wasm', 'native'] as const)(
  'guardian signature recovery (%s) agrees with ethers',
  (backend) => {
    beforeAll(() => {
      recoverSigner = recoveries[backend]()
    })
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
  },
)

test('a process whose checkout has the addon built recovers natively', () => {
  expect(signatureRecovery().backend).toMatch(/^libsecp256k1, native \(.*veridis_evm_native\.node\)$/)
})

test("a chunk's signatures recovered in one batch (off the event loop) answer as one by one", async () => {
  const keys = Array.from({ length: 3 }, () => new SigningKey(hexlify(randomBytes(32))))
  const releases = Array.from({ length: 40 }, (_, i) => {
    const signed = keccak256(randomBytes(32))
    const signatures = keys.map((key) => key.sign(signed).serialized)
    // Mixed in: a signature over another digest, one cut short, one with s's top bit set, none.
    if (i % 4 === 1) signatures[0] = keys[0]!.sign(keccak256(randomBytes(32))).serialized
    if (i % 4 === 2)
      signatures.push(
        signatures[1]!.slice(0, -2),
        `${signatures[2]!.slice(0, 66)}ff${signatures[2]!.slice(68)}`,
      )
    return { signed, signatures: i % 10 === 3 ? [] : signatures }
  })
  const guardians = keys.map((key) => computeAddress(key.publicKey))
  const verdict = (
    signed: string,
    signatures: string[],
    recovered?: Parameters<typeof recoverGuardianSignatures>[0]['recovered'],
  ) => recoverGuardianSignatures({ signed, signatures, guardians, setLabel: 'in the test', recovered })
  const backend = signatureRecovery()
  expect(backend.addon).toBeDefined()
  const batched = await recoverSignersOfMany(releases, backend)
  const inWasm = await recoverSignersOfMany(releases, {
    ...backend,
    recover: signerRecoveries.wasm,
    addon: undefined,
  })
  expect(inWasm).toEqual(batched)
  let problems = 0
  releases.forEach(({ signed, signatures }, i) => {
    expect(batched[i]).toHaveLength(signatures.length)
    const oneByOne = verdict(signed, signatures)
    expect(verdict(signed, signatures, batched[i])).toEqual(oneByOne)
    problems += oneByOne.problems.length
  })
  expect(problems).toBeGreaterThan(20)
})

test("the release digest and message id are ethers' abi.encode, keccak256 and hashMessage, byte for byte", () => {
  const coder = AbiCoder.defaultAbiCoder()
  for (let i = 0; i < 200; i++) {
    const address = () => [Wallet.createRandom().address, Wallet.createRandom().address.toLowerCase()][i % 2]!
    const fields = {
      chain: `eip155:${BigInt(hexlify(randomBytes(1 + (i % 8))))}`,
      gateway: address(),
      messageId: hexlify(randomBytes(32)),
      mode: (['MINT', 'UNLOCK'] as const)[i % 2]!,
      token: address(),
      recipient: address(),
      amount: BigInt(hexlify(randomBytes(1 + (i % 32)))),
    }
    const preimage = coder.encode(
      ['bytes32', 'uint256', 'address', 'bytes32', 'uint8', 'address', 'address', 'uint256'],
      [
        id('veridis.bridge.Release.v1'),
        BigInt(fields.chain.split(':')[1]!),
        fields.gateway,
        fields.messageId,
        RELEASE_MODES[fields.mode],
        fields.token,
        fields.recipient,
        fields.amount,
      ],
    )
    // The gateway's digest, signed with the EIP-191 prefix: what the code before this one computed.
    expect(signedDigest(fields)).toBe(hashMessage(getBytes(keccak256(preimage))))
    const nonce = BigInt(hexlify(randomBytes(8)))
    expect(messageIdOf(31337n, fields.gateway, nonce)).toBe(
      keccak256(
        coder.encode(['uint256', 'address', 'uint256'], [31337n, fields.gateway, nonce]),
      ).toLowerCase(),
    )
  }
  // A wrongly checksummed address is refused as ethers refuses it.
  const address = Wallet.createRandom().address
  const flipped = `0x${[...address.slice(2)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')}`
  expect(() => messageIdOf(1n, flipped, 1n)).toThrow(/bad address checksum/)
})
