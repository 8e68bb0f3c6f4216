import * as snarkjs from 'snarkjs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { circuitSpecs, SNARK_SCALAR_FIELD, semaphoreSpec } from '../../circuits/catalog.ts'
import { sharedCurve, terminateCurves } from '../../circuits/curve.ts'
import { loadHashers } from '../../circuits/inputs.ts'
import { BASE_FIELD, type Groth16Proof, parseProof, toSnarkjsProof } from '../../circuits/points.ts'
import { createProver } from '../../consumers/prover/prover.ts'
import { PAIRING_FAILED, prepareKey, verifyBatch } from '../../consumers/verifier/batch.ts'
import { createG2SubgroupCheck } from '../../consumers/verifier/subgroup.ts'
import { createVerifier, type VerifyRequest } from '../../consumers/verifier/verifier.ts'
import { erasureCase, readKey, requireZkNative, semaphoreCase } from './fixtures.ts'

/** Batch verification gives exactly snarkjs.groth16.verify's verdicts, and names every bad proof. */
const specs = circuitSpecs(20)
const valid: VerifyRequest[] = []

beforeAll(async () => {
  await sharedCurve()
  const hashers = await loadHashers()
  const prover = createProver({ specs, concurrency: 2, cacheSize: 0 })
  const jobs = [
    ...[0, 1, 2, 0].map((member, n) => ({
      circuit: 'IDENTITY_MEMBERSHIP' as const,
      inputs: semaphoreCase(member, BigInt(n + 1), 9n).inputs,
    })),
    ...['a', 'b'].map((label) => ({
      circuit: 'ERASURE' as const,
      inputs: erasureCase(hashers, label).inputs,
    })),
  ]
  const outcomes = await Promise.all(jobs.map((job) => prover.prove(job.circuit, job.inputs)))
  outcomes.forEach((outcome, index) => {
    if (outcome.status !== 'GENERATED') throw new Error(`fixture proof rejected: ${outcome.reason}`)
    valid.push({ circuit: jobs[index]!.circuit, proof: outcome.proof, publicSignals: outcome.publicSignals })
  })
}, 120_000)
afterAll(terminateCurves)

/** The same verifier on the native addon's pairing (circuits/native); fails when the addon is not built. */
const nativeVerifier = () =>
  createVerifier({
    specs,
    batchSize: 64,
    backend: { kind: 'native', addon: requireZkNative(), detail: 'test' },
  })

const bump = (value: string) => ((BigInt(value) + 1n) % SNARK_SCALAR_FIELD).toString()
const negateG1 = (point: string[]) => [
  point[0]!,
  ((BASE_FIELD - BigInt(point[1]!)) % BASE_FIELD).toString(),
  '1',
]

/** Valid proofs and every kind of invalid one we can think of, mixed. */
function mixedSet(): VerifyRequest[] {
  const [s0, s1, s2, s3, e0, e1] = valid as [VerifyRequest, ...VerifyRequest[]] & VerifyRequest[]
  const withProof = (item: VerifyRequest, proof: Partial<Groth16Proof>): VerifyRequest => ({
    ...item,
    proof: { ...item.proof, ...proof },
  })
  return [
    s0,
    {
      ...s1!,
      publicSignals: s1!.publicSignals.map((signal, index) => (index === 1 ? bump(signal) : signal)),
    },
    s2!,
    { ...s0, proof: s1!.proof },
    withProof(s3!, { piA: negateG1(s3!.proof.piA) }),
    e0!,
    withProof(e1!, { piC: e0!.proof.piA }),
    s1!,
    withProof(s2!, { piB: [s2!.proof.piB[0]!.toReversed(), s2!.proof.piB[1]!.toReversed(), ['1', '0']] }),
    withProof(s3!, { piA: ['1', '3', '1'] }),
    {
      ...s3!,
      publicSignals: s3!.publicSignals.map((signal, index) =>
        index === 0 ? (BigInt(signal) + SNARK_SCALAR_FIELD).toString() : signal,
      ),
    },
    { ...e1!, publicSignals: [e1!.publicSignals[0]!, e1!.publicSignals[2]!, e1!.publicSignals[1]!] },
    e1!,
    s3!,
    { ...e0!, circuit: 'IDENTITY_MEMBERSHIP' },
  ]
}

async function snarkjsVerdict(item: VerifyRequest): Promise<boolean> {
  try {
    return await snarkjs.groth16.verify(
      readKey(specs[item.circuit]),
      [...item.publicSignals],
      toSnarkjsProof(item.proof) as never,
    )
  } catch {
    return false
  }
}

describe('batch verification', () => {
  test('behavior: verdicts equal snarkjs.groth16.verify on a mixed set of valid and invalid proofs', async () => {
    const items = mixedSet()
    const verifier = createVerifier({ specs, batchSize: 64 })
    const verdicts = await verifier.verify(items)
    const expected = await Promise.all(items.map(snarkjsVerdict))
    expect(verdicts.map((verdict) => verdict.valid)).toEqual(expected)
    // The set is really mixed: 6 valid, 9 invalid.
    expect(expected.filter(Boolean)).toHaveLength(6)
    // A wrong signal is a pairing failure; broken points are named without a pairing.
    expect(verdicts[1]).toEqual({ valid: false, reason: PAIRING_FAILED })
    expect(verdicts[9]).toEqual({ valid: false, reason: 'malformed: piA is not on the curve' })
    expect(verdicts[10]).toEqual({
      valid: false,
      reason: 'malformed: public signal 0 is not below the field modulus',
    })
    expect(verdicts[14]).toEqual({ valid: false, reason: 'malformed: expected 4 public signals, got 3' })
  })

  test('behavior: the native backend gives the same verdicts, reasons included, on the mixed set', async () => {
    const items = mixedSet()
    const ffjavascript = await createVerifier({ specs, batchSize: 64 }).verify(items)
    const native = await nativeVerifier().verify(items)
    expect(native).toEqual(ffjavascript)
    expect(native.filter((verdict) => verdict.valid)).toHaveLength(6)
    // In batches of 4 as well: bisection inside smaller batches, the same verdicts.
    const small = createVerifier({
      specs,
      batchSize: 4,
      backend: { kind: 'native', addon: requireZkNative(), detail: 'test' },
    })
    expect(await small.verify(items)).toEqual(ffjavascript)
  })

  test('behavior: the native batch of 64 with three bad proofs names exactly those three', async () => {
    const semaphore = valid.filter((item) => item.circuit === 'IDENTITY_MEMBERSHIP')
    const items = Array.from({ length: 64 }, (_, index) => semaphore[index % semaphore.length]!)
    const bad = [0, 31, 63]
    const mixed = items.map((item, index) =>
      bad.includes(index)
        ? { ...item, publicSignals: [...item.publicSignals.slice(0, 3), bump(item.publicSignals[3]!)] }
        : item,
    )
    const verdicts = await nativeVerifier().verify(mixed)
    expect(verdicts.flatMap((verdict, index) => (verdict.valid ? [] : [index]))).toEqual(bad)
    for (const index of bad) expect(verdicts[index]).toEqual({ valid: false, reason: PAIRING_FAILED })
    expect((await nativeVerifier().verify(items)).every((verdict) => verdict.valid)).toBe(true)
  })

  test('a batch of 64 with three bad proofs is bisected to exactly those three, with n + 3 Miller loops when it passes', async () => {
    const curve = await sharedCurve()
    const semaphore = valid.filter((item) => item.circuit === 'IDENTITY_MEMBERSHIP')
    const key = prepareKey(curve, readKey(semaphoreSpec(20)))
    const items = Array.from({ length: 64 }, (_, index) => semaphore[index % semaphore.length]!)
    const bad = [5, 6, 40]
    const mixed = items.map((item, index) =>
      bad.includes(index)
        ? { ...item, publicSignals: [...item.publicSignals.slice(0, 3), bump(item.publicSignals[3]!)] }
        : item,
    )
    // Count Miller loops (worker tasks that run one) and final exponentiations.
    let millerLoops = 0
    let finalExponentiations = 0
    const tm = curve.tm as { queueAction: typeof curve.tm.queueAction }
    const queueAction = tm.queueAction.bind(tm)
    tm.queueAction = (task) => {
      if (task.some((step) => step.cmd === 'CALL' && step.fnName.endsWith('_millerLoop'))) millerLoops++
      return queueAction(task)
    }
    const finalExponentiation = curve.finalExponentiation.bind(curve)
    ;(curve as { finalExponentiation: typeof finalExponentiation }).finalExponentiation = (value) => {
      finalExponentiations++
      return finalExponentiation(value)
    }
    try {
      const verdicts = await verifyBatch(curve, key, mixed)
      expect(verdicts.flatMap((verdict, index) => (verdict.valid ? [] : [index]))).toEqual(bad)
      millerLoops = 0
      finalExponentiations = 0
      expect((await verifyBatch(curve, key, items)).every((verdict) => verdict.valid)).toBe(true)
      expect({ millerLoops, finalExponentiations }).toEqual({ millerLoops: 64 + 3, finalExponentiations: 1 })
    } finally {
      tm.queueAction = queueAction
      ;(curve as { finalExponentiation: typeof finalExponentiation }).finalExponentiation =
        finalExponentiation
    }
  })

  test('G2 subgroup check: the endomorphism test agrees with r·Q = 0 in and outside the subgroup', async () => {
    const curve = await sharedCurve()
    const fast = createG2SubgroupCheck(curve)
    const slow = (point: Uint8Array) => curve.G2.isZero(curve.G2.timesScalar(point, curve.r))
    const F2 = curve.G2.F
    const proofB = parseProof(curve, valid[0]!.proof).b
    let outside = 0
    for (let n = 1n; n <= 24n; n++) {
      const member = curve.G2.toAffine(curve.G2.timesScalar(proofB, n * 1_000_003n))
      expect([fast(member), slow(member)]).toEqual([true, true])
      // A point of the twist curve found from x: almost surely outside the subgroup.
      const x = F2.fromObject([n, 5n] as unknown as bigint)
      const rhs = F2.add(F2.mul(F2.square(x), x), curve.G2.b)
      if (!F2.isSquare(rhs)) continue
      const point = new Uint8Array(4 * curve.G1.F.n8)
      point.set(x)
      point.set(F2.sqrt(rhs), 2 * curve.G1.F.n8)
      expect(curve.G2.isValid(point)).toBe(true)
      expect(fast(point)).toBe(slow(point))
      if (!slow(point)) outside++
    }
    expect(outside).toBeGreaterThan(5)
  })

  test('a proof whose piB is on the twist but outside the subgroup is refused as malformed', async () => {
    const curve = await sharedCurve()
    const F2 = curve.G2.F
    let offSubgroup: string[][] | undefined
    for (let n = 1n; !offSubgroup; n++) {
      const x = F2.fromObject([n, 3n] as unknown as bigint)
      const rhs = F2.add(F2.mul(F2.square(x), x), curve.G2.b)
      if (!F2.isSquare(rhs)) continue
      const point = new Uint8Array(4 * curve.G1.F.n8)
      point.set(x)
      point.set(F2.sqrt(rhs), 2 * curve.G1.F.n8)
      if (curve.G2.isZero(curve.G2.timesScalar(point, curve.r))) continue
      const [px, py] = curve.G2.toObject(point) as [bigint[], bigint[]]
      offSubgroup = [px.map(String), py.map(String), ['1', '0']]
    }
    const item = valid[0]!
    const requests = [item, { ...item, proof: { ...item.proof, piB: offSubgroup } }]
    const expected = [
      { valid: true },
      { valid: false, reason: 'malformed: piB is not in the prime-order subgroup' },
    ]
    expect(await createVerifier({ specs, batchSize: 64 }).verify(requests)).toEqual(expected)
    expect(await nativeVerifier().verify(requests)).toEqual(expected)
  })
})
