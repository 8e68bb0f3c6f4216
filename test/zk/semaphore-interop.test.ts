import { generateProof, packGroth16Proof, unpackGroth16Proof, verifyProof } from '@semaphore-protocol/proof'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { circuitSpecs, semaphoreSpec } from '../../circuits/catalog.ts'
import { sharedCurve, terminateCurves } from '../../circuits/curve.ts'
import { semaphoreHash } from '../../circuits/inputs.ts'
import { fromSnarkjsProof, type SnarkjsProof, toSnarkjsProof } from '../../circuits/points.ts'
import { createProver } from '../../consumers/prover/prover.ts'
import { createVerifier } from '../../consumers/verifier/verifier.ts'
import { requireZkNative, semaphoreCase } from './fixtures.ts'

/**
 * Our identity-membership proofs are Semaphore v4 proofs: theirs verify with our verifier
 * and ours with @semaphore-protocol/proof, both on the real ceremony artifacts (paths
 * passed, nothing downloaded).
 */
const DEPTH = 20
const spec = semaphoreSpec(DEPTH)
const specs = circuitSpecs(DEPTH)

beforeAll(() => sharedCurve())
afterAll(terminateCurves)

describe('Semaphore v4 interop', () => {
  test.each(['snarkjs', 'native'] as const)(
    'a proof from our prover (%s) verifies with @semaphore-protocol/proof, and not with another message',
    async (kind) => {
      const message = 123456789n
      const scope = 2026n
      const { group, inputs } = semaphoreCase(2, message, scope, DEPTH)
      const backend = kind === 'native' ? { kind, addon: requireZkNative() } : { kind }
      const prover = createProver({ specs, concurrency: 1, cacheSize: 0, backend })
      expect(prover.backend).toBe(kind)
      const outcome = await prover.prove('IDENTITY_MEMBERSHIP', inputs)
      if (outcome.status !== 'GENERATED') throw new Error(outcome.reason)
      const [merkleTreeRoot, nullifier, hashedMessage, hashedScope] = outcome.publicSignals
      expect(merkleTreeRoot).toBe(group.root.toString())
      expect(hashedMessage).toBe(semaphoreHash(message).toString())
      expect(hashedScope).toBe(semaphoreHash(scope).toString())
      const theirs = {
        merkleTreeDepth: DEPTH,
        merkleTreeRoot: merkleTreeRoot!,
        nullifier: nullifier!,
        message: message.toString(),
        scope: scope.toString(),
        points: packGroth16Proof(toSnarkjsProof(outcome.proof) as never),
      }
      expect(await verifyProof(theirs)).toBe(true)
      expect(await verifyProof({ ...theirs, message: (message + 1n).toString() })).toBe(false)
    },
  )

  test('a proof from @semaphore-protocol/proof verifies with our batch verifiers (ffjavascript, native), and not with another scope', async () => {
    const { identity, group } = semaphoreCase(0, 0n, 0n, DEPTH)
    const proof = await generateProof(identity, group, 'hello veridis', 'scope-1', DEPTH, {
      wasm: spec.artifacts.wasm,
      zkey: spec.artifacts.zkey,
    })
    expect(await verifyProof(proof)).toBe(true)
    const publicSignals = [
      proof.merkleTreeRoot,
      proof.nullifier,
      semaphoreHash(BigInt(proof.message)).toString(),
      semaphoreHash(BigInt(proof.scope)).toString(),
    ]
    const groth16 = fromSnarkjsProof(unpackGroth16Proof(proof.points) as unknown as SnarkjsProof)
    const native = { kind: 'native' as const, addon: requireZkNative(), detail: 'test' }
    const wrongScope = [...publicSignals.slice(0, 3), semaphoreHash(BigInt(proof.scope) + 1n).toString()]
    for (const backend of [undefined, native]) {
      const verdicts = await createVerifier({ specs, batchSize: 64, ...(backend ? { backend } : {}) }).verify(
        [
          { circuit: 'IDENTITY_MEMBERSHIP', proof: groth16, publicSignals },
          { circuit: 'IDENTITY_MEMBERSHIP', proof: groth16, publicSignals: wrongScope },
        ],
      )
      expect(
        verdicts.map((verdict) => verdict.valid),
        backend ? 'native' : 'ffjavascript',
      ).toEqual([true, false])
    }
  })
})
