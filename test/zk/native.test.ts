import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Group } from '@semaphore-protocol/group'
import { Identity } from '@semaphore-protocol/identity'
import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type CircuitName, circuitSpecs, semaphoreSpec } from '../../circuits/catalog.ts'
import { sharedCurve, terminateCurves } from '../../circuits/curve.ts'
import { type CircuitInputs, type Hashers, loadHashers, semaphoreInputs } from '../../circuits/inputs.ts'
import { chooseZkBackend, type ZkNativeAddon } from '../../circuits/native.ts'
import { fromSnarkjsProof, type SnarkjsProof, toSnarkjsProof } from '../../circuits/points.ts'
import { createProver } from '../../consumers/prover/prover.ts'
import { computeWitness, createWitnessCalculators } from '../../consumers/prover/witness.ts'
import {
  type BatchItem,
  nativeBatchVerifier,
  prepareKey,
  verifyBatch,
} from '../../consumers/verifier/batch.ts'
import { RUST_ADDON_BUILD_SCRIPT } from '../../core/native/rust-addon.ts'
import { disclosureCase, erasureCase, readKey, requireZkNative, semaphoreCase } from './fixtures.ts'

/**
 * The native Groth16 prover (circuits/native) against snarkjs, the reference: its proofs
 * verify with snarkjs.groth16.verify and both batch verifiers, for every circuit; a witness
 * that does not satisfy the circuit is refused; and over many random Semaphore witnesses
 * the two provers agree (VERIDIS_ZK_DIFFERENTIAL proofs each, 12 by default so the suite stays
 * short; docs/benchmarks.md records a run of 300).
 */
const specs = circuitSpecs(20)
const DIFFERENTIAL = Number(process.env.VERIDIS_ZK_DIFFERENTIAL ?? 12)
let addon: ZkNativeAddon
let hashers: Hashers

beforeAll(async () => {
  addon = requireZkNative()
  hashers = await loadHashers()
  await sharedCurve()
})
afterAll(terminateCurves)

const snarkjsAccepts = (circuit: CircuitName, item: BatchItem) =>
  snarkjs.groth16.verify(
    readKey(specs[circuit]),
    [...item.publicSignals],
    toSnarkjsProof(item.proof) as never,
  )

/** The witness with value `index` replaced (values are the last nVars × 32 bytes of a .wtns). */
function tampered(witness: Uint8Array, nVars: number, index: number, value: bigint): Uint8Array {
  const out = Uint8Array.from(witness)
  const at = out.length - (nVars - index) * 32
  for (let byte = 0; byte < 32; byte++) out[at + byte] = Number((value >> BigInt(8 * byte)) & 0xffn)
  return out
}

const valueAt = (witness: Uint8Array, nVars: number, index: number) => {
  const at = witness.length - (nVars - index) * 32
  let value = 0n
  for (let byte = 31; byte >= 0; byte--) value = (value << 8n) | BigInt(witness[at + byte]!)
  return value
}

describe('native Groth16 prover', () => {
  test('behavior: proofs of all three circuits verify with snarkjs and both batch verifiers; two proofs of one witness differ', async () => {
    const prover = createProver({ specs, concurrency: 2, cacheSize: 0, backend: { kind: 'native', addon } })
    expect(prover.backend).toBe('native')
    const cases = [
      { circuit: 'IDENTITY_MEMBERSHIP' as const, inputs: semaphoreCase(1, 5n, 6n).inputs },
      { circuit: 'ATTESTATION_DISCLOSURE' as const, inputs: disclosureCase(hashers, 'native').inputs },
      { circuit: 'ERASURE' as const, inputs: erasureCase(hashers, 'native').inputs },
    ]
    const curve = await sharedCurve()
    for (const { circuit, inputs } of cases) {
      const outcomes = await Promise.all([prover.prove(circuit, inputs), prover.prove(circuit, inputs)])
      const items = outcomes.map((outcome) => {
        if (outcome.status !== 'GENERATED') throw new Error(`${circuit}: ${outcome.reason}`)
        return { proof: outcome.proof, publicSignals: outcome.publicSignals }
      })
      // In flight twice, computed once (the prover's dedup): prove a second time for randomness.
      const again = await createProver({
        specs,
        concurrency: 1,
        cacheSize: 0,
        backend: { kind: 'native', addon },
      }).prove(circuit, inputs)
      if (again.status !== 'GENERATED') throw new Error(again.reason)
      items.push({ proof: again.proof, publicSignals: again.publicSignals })
      expect(items[2]!.proof.piA, `${circuit}: fresh randomness per proof`).not.toEqual(items[0]!.proof.piA)
      expect(items[2]!.publicSignals).toEqual(items[0]!.publicSignals)
      for (const item of items) expect(await snarkjsAccepts(circuit, item), `${circuit} snarkjs`).toBe(true)
      const key = readKey(specs[circuit])
      const native = await nativeBatchVerifier(addon, key).verify(items)
      const ffjavascript = await verifyBatch(curve, prepareKey(curve, key), items)
      expect(native, `${circuit} native batch`).toEqual(items.map(() => ({ valid: true })))
      expect(ffjavascript, `${circuit} ffjavascript batch`).toEqual(items.map(() => ({ valid: true })))
    }
  })

  test('error: a tampered witness is refused, never proved', async () => {
    const spec = semaphoreSpec(20)
    const prover = new addon.Groth16Prover(spec.artifacts.zkey)
    const { nVars, nPublic } = prover
    const witness = await computeWitness(spec, semaphoreCase(0, 1n, 2n).inputs as Record<string, string[]>)
    const genuine = await prover.prove(witness)
    expect(
      await snarkjsAccepts('IDENTITY_MEMBERSHIP', {
        proof: { piA: genuine.piA, piB: genuine.piB, piC: genuine.piC, protocol: 'groth16', curve: 'bn128' },
        publicSignals: genuine.publicSignals,
      }),
    ).toBe(true)
    const unsatisfied = /^witness does not satisfy the circuit/
    // A public signal (the root), a private signal (the last one), and the nullifier swapped in.
    const root = valueAt(witness, nVars, 1)
    await expect(prover.prove(tampered(witness, nVars, 1, root + 1n))).rejects.toThrow(unsatisfied)
    await expect(
      prover.prove(tampered(witness, nVars, nVars - 1, valueAt(witness, nVars, nVars - 1) ^ 1n)),
    ).rejects.toThrow(unsatisfied)
    await expect(
      prover.prove(tampered(witness, nVars, nPublic + 1, valueAt(witness, nVars, 2))),
    ).rejects.toThrow(unsatisfied)
    // Malformed: a value at the field modulus, the constant not 1, another circuit's witness.
    const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n
    await expect(prover.prove(tampered(witness, nVars, 3, r))).rejects.toThrow(/outside the scalar field/)
    await expect(prover.prove(tampered(witness, nVars, 0, 2n))).rejects.toThrow(/constant 1/)
    const erasure = await computeWitness(
      specs.ERASURE,
      erasureCase(hashers, 'other').inputs as Record<string, string[]>,
    )
    await expect(prover.prove(erasure)).rejects.toThrow(/witness has \d+ values, the circuit has 6454/)
    await expect(prover.prove(witness.subarray(0, witness.length - 1))).rejects.toThrow()
  })

  test('behavior: inputs the circuit refuses are REJECTED with the same reason on both backends', async () => {
    const { inputs } = semaphoreCase(1, 1n, 2n)
    const refused: CircuitInputs = { ...inputs, secret: [hashers.eddsa.babyJub.subOrder.toString()] }
    const reasons = await Promise.all(
      (['snarkjs', 'native'] as const).map(async (kind) => {
        const backend = kind === 'native' ? { kind, addon } : { kind }
        const outcome = await createProver({ specs, concurrency: 1, cacheSize: 0, backend }).prove(
          'IDENTITY_MEMBERSHIP',
          refused,
        )
        return outcome.status === 'REJECTED' ? outcome.reason : 'GENERATED'
      }),
    )
    expect(reasons[0]).toMatch(/^inputs do not satisfy the circuit \(failed constraint in /)
    expect(reasons[1]).toBe(reasons[0])
  })

  test("behavior: reused witness calculators give snarkjs's bytes for every circuit, also after refusing inputs and when run at once", async () => {
    const witnesses = createWitnessCalculators()
    const bytes = async (witness: Promise<Uint8Array>) => Buffer.from(await witness).toString('hex')
    const cases = [
      {
        spec: specs.IDENTITY_MEMBERSHIP,
        inputs: [semaphoreCase(1, 5n, 6n).inputs, semaphoreCase(2, 7n, 8n).inputs],
      },
      {
        spec: specs.ATTESTATION_DISCLOSURE,
        inputs: [disclosureCase(hashers, 'pool-1').inputs, disclosureCase(hashers, 'pool-2').inputs],
      },
      {
        spec: specs.ERASURE,
        inputs: [erasureCase(hashers, 'pool-1').inputs, erasureCase(hashers, 'pool-2').inputs],
      },
    ]
    for (const { spec, inputs } of cases) {
      const [first, second] = inputs as [Record<string, string[]>, Record<string, string[]>]
      const expected = [await bytes(computeWitness(spec, first)), await bytes(computeWitness(spec, second))]
      expect(expected[0], `${spec.id}: two inputs, two witnesses`).not.toBe(expected[1])
      // Twice at once (two instances), then in turn on the pooled ones.
      expect(
        await Promise.all([bytes(witnesses.compute(spec, first)), bytes(witnesses.compute(spec, second))]),
      ).toEqual(expected)
      expect(await bytes(witnesses.compute(spec, second))).toBe(expected[1])
      expect(await bytes(witnesses.compute(spec, first))).toBe(expected[0])
    }
    // Inputs the circuit refuses fail as with snarkjs; the calculators after them still agree.
    const { inputs } = semaphoreCase(1, 1n, 2n)
    const refused = { ...inputs, secret: [hashers.eddsa.babyJub.subOrder.toString()] } as Record<
      string,
      string[]
    >
    const spec = specs.IDENTITY_MEMBERSHIP
    const theirs = await computeWitness(spec, refused).then(
      () => 'proved',
      (error: Error) => error.message,
    )
    const ours = await witnesses.compute(spec, refused).then(
      () => 'proved',
      (error: Error) => error.message,
    )
    expect(theirs).toMatch(/Assert Failed/)
    expect(ours).toBe(theirs)
    const valid = inputs as Record<string, string[]>
    expect(await bytes(witnesses.compute(spec, valid))).toBe(await bytes(computeWitness(spec, valid)))
  })

  test("the crate's Rust tests pass: the batch-affine multi-exponentiation equals arkworks', doublings and cancellations included", async () => {
    // Asynchronous: compiling the test binary takes a minute when the crate changed, and a
    // blocked worker trips Vitest's RPC timeout.
    const { stdout } = await promisify(execFile)('bash', [RUST_ADDON_BUILD_SCRIPT, 'zk-native', 'test'], {
      maxBuffer: 16 * 1024 * 1024,
    })
    expect(stdout).toMatch(/test msm::tests::equals_arkworks_on_random_and_repeated_points \.\.\. ok/)
    expect(stdout).toMatch(/test msm::tests::one_point_many_times_in_one_bucket \.\.\. ok/)
    expect(stdout).toMatch(/test result: ok\. \d+ passed; 0 failed/)
  })

  test('behavior: auto falls back to snarkjs when the addon is not built, naming why; native refuses to start', () => {
    expect(chooseZkBackend('auto').kind).toBe('native')
    expect(chooseZkBackend('snarkjs')).toEqual({ kind: 'snarkjs', detail: 'VERIDIS_ZK_BACKEND=snarkjs' })
    const empty = mkdtempSync(path.join(os.tmpdir(), 'veridis-no-addon-'))
    const before = process.env.VERIDIS_CACHE
    process.env.VERIDIS_CACHE = empty
    try {
      const fallback = chooseZkBackend('auto')
      expect(fallback.kind).toBe('snarkjs')
      expect(fallback.detail).toMatch(
        /^native addon not built \(infra\/stack\/native\/rust-addon\.sh zk-native builds /,
      )
      expect(() => chooseZkBackend('native')).toThrow(/VERIDIS_ZK_BACKEND=native but the addon not built/)
    } finally {
      if (before === undefined) delete process.env.VERIDIS_CACHE
      else process.env.VERIDIS_CACHE = before
      rmSync(empty, { recursive: true })
    }
  })

  test(
    `differential: ${DIFFERENTIAL} random Semaphore witnesses through both provers give proofs every verifier accepts`,
    async () => {
      const spec = semaphoreSpec(20)
      const native = new addon.Groth16Prover(spec.artifacts.zkey)
      const witnesses = createWitnessCalculators()
      const curve = await sharedCurve()
      const key = readKey(spec)
      const items: BatchItem[] = []
      const random = (bits: number) => BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`)
      for (let n = 0; n < DIFFERENTIAL; n++) {
        const identities = Array.from(
          { length: 1 + Number(random(8) % 12n) },
          () => new Identity(randomBytes(32).toString('hex')),
        )
        const group = new Group(identities.map((identity) => identity.commitment))
        const member = Number(random(8)) % identities.length
        const inputs = semaphoreInputs({
          secret: identities[member]!.secretScalar,
          merkleProof: group.generateMerkleProof(member),
          message: random(250),
          scope: random(250),
          depth: 20,
        })
        const reference = await snarkjs.groth16.fullProve(inputs, spec.artifacts.wasm, spec.artifacts.zkey)
        // The prover's pooled calculator, one instance reused across every witness here.
        const witness = await witnesses.compute(spec, inputs as Record<string, string[]>)
        expect(
          Buffer.from(witness).equals(
            Buffer.from(await computeWitness(spec, inputs as Record<string, string[]>)),
          ),
          `witness ${n}: pooled calculator, same bytes as snarkjs`,
        ).toBe(true)
        const proved = await native.prove(witness)
        expect(proved.publicSignals, `witness ${n}: public signals`).toEqual(reference.publicSignals)
        const ours: BatchItem = {
          proof: { piA: proved.piA, piB: proved.piB, piC: proved.piC, protocol: 'groth16', curve: 'bn128' },
          publicSignals: proved.publicSignals,
        }
        const theirs: BatchItem = {
          proof: fromSnarkjsProof(reference.proof as SnarkjsProof),
          publicSignals: reference.publicSignals as string[],
        }
        expect(await snarkjsAccepts('IDENTITY_MEMBERSHIP', ours), `witness ${n}: native proof, snarkjs`).toBe(
          true,
        )
        expect(await snarkjsAccepts('IDENTITY_MEMBERSHIP', theirs), `witness ${n}: snarkjs proof`).toBe(true)
        items.push(ours, theirs)
      }
      const verifier = nativeBatchVerifier(addon, key)
      const prepared = prepareKey(curve, key)
      for (let start = 0; start < items.length; start += 64) {
        const batch = items.slice(start, start + 64)
        expect(await verifier.verify(batch)).toEqual(batch.map(() => ({ valid: true })))
        expect(await verifyBatch(curve, prepared, batch)).toEqual(batch.map(() => ({ valid: true })))
      }
      expect(items).toHaveLength(2 * DIFFERENTIAL)
    },
    120_000 + DIFFERENTIAL * 30_000,
  )
})
