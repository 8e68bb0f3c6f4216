import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  ATTESTATION_DISCLOSURE,
  ERASURE,
  publicSignalIndex,
  SNARK_SCALAR_FIELD,
  semaphoreSpec,
} from '../../circuits/catalog.ts'
import { sharedCurve, terminateCurves } from '../../circuits/curve.ts'
import {
  type CircuitInputs,
  expectedDisclosure,
  type Hashers,
  loadHashers,
  pathBits,
  signCredential,
} from '../../circuits/inputs.ts'
import { checkInputs, InvalidInputsError } from '../../consumers/prover/inputs.ts'
import { disclosureCase, erasureCase, fieldOf, ISSUER_KEY, readKey, semaphoreCase } from './fixtures.ts'

/** Witness tests: each circuit accepts what it should and refuses the rest. */
let hashers: Hashers

beforeAll(async () => {
  await sharedCurve()
  hashers = await loadHashers()
})
afterAll(terminateCurves)

const witness = (wasm: string, inputs: CircuitInputs) =>
  snarkjs.wtns.calculate(inputs, wasm, { type: 'mem' } as never)

const expectRefused = async (wasm: string, inputs: CircuitInputs) => {
  await expect(witness(wasm, inputs)).rejects.toThrow(/Assert Failed|Error in template/)
}

const replaced = (inputs: CircuitInputs, name: string, index: number, value: bigint | string) => {
  const values = [...inputs[name]!]
  values[index] = value.toString()
  return { ...inputs, [name]: values }
}

describe('attestation disclosure circuit', () => {
  const wasm = ATTESTATION_DISCLOSURE.artifacts.wasm

  test('accepts a signed credential in the tree and outputs root, nullifier and only the chosen fields', async () => {
    const { options, inputs } = disclosureCase(hashers, 'holder-1')
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(
      inputs,
      wasm,
      ATTESTATION_DISCLOSURE.artifacts.zkey,
    )
    expect(await snarkjs.groth16.verify(readKey(ATTESTATION_DISCLOSURE), publicSignals, proof)).toBe(true)
    const expected = expectedDisclosure(hashers.poseidon, options)
    const signal = (name: string) => publicSignals[publicSignalIndex(ATTESTATION_DISCLOSURE, name)]
    expect(signal('attestationRoot')).toBe(expected.attestationRoot.toString())
    expect(signal('nullifier')).toBe(expected.nullifier.toString())
    // Mask 0b101: fields 0 and 2 disclosed, the other six hidden as 0.
    const disclosed = Array.from({ length: 8 }, (_, index) => signal(`disclosed[${index}]`))
    expect(disclosed).toEqual(expected.disclosed.map(String))
    expect(disclosed.filter((value) => value !== '0')).toHaveLength(2)
    expect(signal('discloseMask')).toBe('5')
  })

  test('nullifiers of two applications using the same scope differ; same application and scope repeat', async () => {
    const a = disclosureCase(hashers, 'holder-2', { applicationId: fieldOf('app/a'), scope: 7n })
    const b = disclosureCase(hashers, 'holder-2', { applicationId: fieldOf('app/b'), scope: 7n })
    const again = disclosureCase(hashers, 'holder-2', { applicationId: fieldOf('app/a'), scope: 7n })
    const nullifier = (options: typeof a.options) => expectedDisclosure(hashers.poseidon, options).nullifier
    expect(nullifier(a.options)).not.toBe(nullifier(b.options))
    expect(nullifier(a.options)).toBe(nullifier(again.options))
    await witness(wasm, b.inputs)
  })

  test('refuses a wrong signature: another message, a tampered field, another issuer key', async () => {
    const { inputs } = disclosureCase(hashers, 'holder-3')
    await expectRefused(wasm, replaced(inputs, 'fields', 3, 12345n))
    await expectRefused(wasm, replaced(inputs, 'signatureR8', 0, BigInt(inputs.signatureR8![0]!) + 1n))
    await expectRefused(wasm, replaced(inputs, 'signatureS', 0, BigInt(inputs.signatureS![0]!) + 1n))
    const other = disclosureCase(hashers, 'holder-3', {})
    const otherIssuer = signCredential(hashers, Buffer.alloc(32, 7), other.options.credential)
    await expectRefused(wasm, { ...inputs, issuerPublicKey: otherIssuer.issuerPublicKey.map(String) })
  })

  test('a wrong path does not reach the issuer root', async () => {
    const { options, inputs } = disclosureCase(hashers, 'holder-4')
    const tampered = replaced(inputs, 'siblings', 4, 99n)
    const { publicSignals } = await snarkjs.groth16.fullProve(
      tampered,
      wasm,
      ATTESTATION_DISCLOSURE.artifacts.zkey,
    )
    const root = expectedDisclosure(hashers.poseidon, options).attestationRoot.toString()
    expect(publicSignals[publicSignalIndex(ATTESTATION_DISCLOSURE, 'attestationRoot')]).not.toBe(root)
  })

  test('refuses a non-binary path index, including -1 (p - 1)', async () => {
    const { inputs } = disclosureCase(hashers, 'holder-5')
    await expectRefused(wasm, replaced(inputs, 'pathIndices', 0, 2n))
    await expectRefused(wasm, replaced(inputs, 'pathIndices', 7, SNARK_SCALAR_FIELD - 1n))
  })

  test('field boundaries: p - 1 is a valid field value; S + subgroup order and a mask of 2^8 are refused', async () => {
    const credential = signCredential(hashers, ISSUER_KEY, {
      holderSecret: fieldOf('holder-6'),
      fields: [SNARK_SCALAR_FIELD - 1n, 0n, 1n, 2n, 3n, 4n, 5n, 6n],
    })
    const { inputs } = disclosureCase(hashers, 'holder-6', { credential, discloseMask: 1 })
    const { publicSignals } = await snarkjs.groth16.fullProve(
      inputs,
      wasm,
      ATTESTATION_DISCLOSURE.artifacts.zkey,
    )
    expect(publicSignals[publicSignalIndex(ATTESTATION_DISCLOSURE, 'disclosed[0]')]).toBe(
      (SNARK_SCALAR_FIELD - 1n).toString(),
    )
    // S and S + l verify the same equation; the circuit takes only the canonical S < l.
    const malleable = BigInt(inputs.signatureS![0]!) + hashers.eddsa.babyJub.subOrder
    expect(malleable < SNARK_SCALAR_FIELD).toBe(true)
    await expectRefused(wasm, replaced(inputs, 'signatureS', 0, malleable))
    await expectRefused(wasm, replaced(inputs, 'discloseMask', 0, 256n))
  })

  test('inputs at or above the field modulus, non-decimal, missing or unknown are refused before any witness', () => {
    const { inputs } = disclosureCase(hashers, 'holder-7')
    const refusal = (candidate: Record<string, string[]>) => {
      try {
        checkInputs(ATTESTATION_DISCLOSURE, candidate)
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputsError)
        return (error as Error).message
      }
      return undefined
    }
    expect(refusal(inputs)).toBeUndefined()
    expect(refusal(replaced(inputs, 'fields', 1, SNARK_SCALAR_FIELD))).toBe(
      "input 'fields[1]' is not below the BN254 scalar field modulus",
    )
    expect(refusal(replaced(inputs, 'fields', 1, '-1'))).toBe("input 'fields[1]' is not a decimal number")
    expect(refusal(replaced(inputs, 'fields', 1, '0x10'))).toBe("input 'fields[1]' is not a decimal number")
    const { holderSecret: _, ...missing } = inputs
    expect(refusal(missing)).toBe("input 'holderSecret' is missing")
    expect(refusal({ ...inputs, extra: ['1'] })).toBe("unknown input 'extra'")
    expect(refusal({ ...inputs, fields: ['1'] })).toBe("input 'fields' needs 8 values, got 1")
    // No refusal carries an input value.
    const secret = inputs.holderSecret![0]!
    expect(refusal(replaced(inputs, 'holderSecret', 0, `${secret}x`))).not.toContain(secret)
  })
})

describe('erasure circuit', () => {
  const wasm = ERASURE.artifacts.wasm

  test('accepts the key commitment replaced by the subject tombstone along one path', async () => {
    const { inputs, oldRoot, newRoot } = erasureCase(hashers, 'subject-1')
    const { proof, publicSignals } = await snarkjs.groth16.fullProve(inputs, wasm, ERASURE.artifacts.zkey)
    expect(publicSignals).toEqual([inputs.subjectHash![0], oldRoot.toString(), newRoot.toString()])
    expect(await snarkjs.groth16.verify(readKey(ERASURE), publicSignals, proof)).toBe(true)
  })

  test('refuses a wrong old root, a wrong new root, another subject, another data key', async () => {
    const { inputs, newRoot } = erasureCase(hashers, 'subject-2')
    await expectRefused(wasm, replaced(inputs, 'oldRoot', 0, 1n))
    await expectRefused(wasm, replaced(inputs, 'newRoot', 0, newRoot + 1n))
    // Tombstone of another subject in the new root: the roots no longer share the path.
    const other = erasureCase(hashers, 'subject-3')
    await expectRefused(wasm, { ...inputs, newRoot: other.inputs.newRoot! })
    await expectRefused(wasm, replaced(inputs, 'subjectHash', 0, fieldOf('someone else')))
    await expectRefused(wasm, replaced(inputs, 'dataKey', 0, 1n))
  })

  test('refuses a non-binary path index even when both roots are recomputed for it', async () => {
    const { inputs } = erasureCase(hashers, 'subject-4')
    await expectRefused(wasm, replaced(inputs, 'pathIndices', 3, 2n))
    // A path that is binary at every level still works at another position.
    const moved = erasureCase(hashers, 'subject-4')
    expect(moved.inputs.pathIndices).toEqual(pathBits(9).map(String))
  })
})

describe('identity membership (Semaphore v4, depth 20)', () => {
  const spec = semaphoreSpec(20)

  test('accepts a group member; a stranger gets another root; a secret at the subgroup order is refused', async () => {
    const { inputs } = semaphoreCase(1, 1n, 2n)
    await witness(spec.artifacts.wasm, inputs)
    // Semaphore outputs the root it computed, so a stranger gets another root, not a failure.
    const { publicSignals: member } = await snarkjs.groth16.fullProve(
      inputs,
      spec.artifacts.wasm,
      spec.artifacts.zkey,
    )
    const stranger = { ...inputs, secret: [fieldOf('stranger').toString().slice(0, 70)] }
    const { publicSignals } = await snarkjs.groth16.fullProve(
      stranger,
      spec.artifacts.wasm,
      spec.artifacts.zkey,
    )
    expect(publicSignals[0]).not.toBe(member[0])
    // Field boundary: the secret must be below the BabyJubJub subgroup order l.
    const l = hashers.eddsa.babyJub.subOrder
    await expectRefused(spec.artifacts.wasm, replaced(inputs, 'secret', 0, l))
    await witness(spec.artifacts.wasm, replaced(inputs, 'secret', 0, l - 1n))
  })
})
