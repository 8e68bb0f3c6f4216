import { randomBytes } from 'node:crypto'
import { type Curve, Scalar, type ThreadStep } from 'ffjavascript'
import { NATIVE_VERDICT, type ZkNativeAddon } from '../../circuits/native.ts'
import {
  type Groth16Proof,
  MalformedProofError,
  type ParsedProof,
  parseG1,
  parseG2,
  parseProof,
  parsePublicSignals,
  proofCoordinates,
} from '../../circuits/points.ts'
import { createG2SubgroupCheck } from './subgroup.ts'

/** A verification key as snarkjs exports it (zkey export verificationkey). */
export interface VerificationKeyJson {
  protocol: string
  curve: string
  nPublic: number
  vk_alpha_1: string[]
  vk_beta_2: string[][]
  vk_gamma_2: string[][]
  vk_delta_2: string[][]
  IC: string[][]
}

export interface PreparedKey {
  readonly nPublic: number
  readonly alpha: Uint8Array
  readonly beta: Uint8Array
  readonly gamma: Uint8Array
  readonly delta: Uint8Array
  /** IC[0..nPublic] as affine points laid end to end, the bases of one multi-exponentiation. */
  readonly icBases: Uint8Array
}

export function prepareKey(curve: Curve, key: VerificationKeyJson): PreparedKey {
  if (key.protocol !== 'groth16' || key.curve !== 'bn128') {
    throw new MalformedProofError('verification key is not a groth16/bn128 key')
  }
  if (key.IC.length !== key.nPublic + 1) throw new MalformedProofError('verification key IC length is wrong')
  const pointSize = curve.G1.F.n8 * 2
  const icBases = new Uint8Array(pointSize * key.IC.length)
  key.IC.forEach((point, index) => {
    icBases.set(curve.G1.toAffine(parseG1(curve, point, `IC[${index}]`)), index * pointSize)
  })
  return {
    nPublic: key.nPublic,
    alpha: parseG1(curve, key.vk_alpha_1, 'vk_alpha_1'),
    beta: parseG2(curve, key.vk_beta_2, 'vk_beta_2', { subgroup: true }),
    gamma: parseG2(curve, key.vk_gamma_2, 'vk_gamma_2', { subgroup: true }),
    delta: parseG2(curve, key.vk_delta_2, 'vk_delta_2', { subgroup: true }),
    icBases,
  }
}

export interface BatchItem {
  readonly proof: Groth16Proof
  readonly publicSignals: readonly string[]
}

export type Verdict = { readonly valid: true } | { readonly valid: false; readonly reason: string }

export const PAIRING_FAILED = 'pairing check failed: the proof does not verify for these public signals'

interface Parsed {
  readonly index: number
  readonly proof: ParsedProof
  readonly signals: readonly bigint[]
}

/** 128-bit random weights: a bad proof survives a batch with probability 2^-128. */
function randomWeight(): bigint {
  for (;;) {
    const weight = BigInt(`0x${randomBytes(16).toString('hex')}`)
    if (weight !== 0n) return weight
  }
}

function scalarsLE(curve: Curve, values: readonly bigint[], size = curve.Fr.n8): Uint8Array {
  const buffer = new Uint8Array(size * values.length)
  values.forEach((value, index) => {
    Scalar.toRprLE(buffer, index * size, value % curve.r, size)
  })
  return buffer
}

const WEIGHT_BYTES = 16

const subgroupChecks = new WeakMap<Curve, (point: Uint8Array) => boolean>()
function subgroupCheck(curve: Curve) {
  let check = subgroupChecks.get(curve)
  if (!check) {
    check = createG2SubgroupCheck(curve)
    subgroupChecks.set(curve, check)
  }
  return check
}

/**
 * Miller loop of (−weight·A, B) on a worker thread: the scalar multiplication, the line
 * precomputation of B and the loop itself all run off the main thread, on every core.
 */
function weightedMillerLoop(
  curve: Curve,
  a: Uint8Array,
  weight: bigint,
  b: Uint8Array,
): Promise<Uint8Array[]> {
  const task: ThreadStep[] = [
    { cmd: 'ALLOCSET', var: 0, buff: curve.G1.toAffine(a) },
    { cmd: 'ALLOCSET', var: 1, buff: scalarsLE(curve, [weight], WEIGHT_BYTES) },
    { cmd: 'ALLOC', var: 2, len: curve.G1.F.n8 * 3 },
    {
      cmd: 'CALL',
      fnName: 'g1m_timesScalarAffine',
      params: [{ var: 0 }, { var: 1 }, { val: WEIGHT_BYTES }, { var: 2 }],
    },
    { cmd: 'CALL', fnName: 'g1m_neg', params: [{ var: 2 }, { var: 2 }] },
    ...millerSteps(curve, 2, b),
  ]
  return curve.tm.queueAction(task)
}

/** Miller loop of (P, Q) on a worker thread, P already allocated as variable `g1Var` (Jacobian). */
function millerSteps(curve: Curve, g1Var: number, q: Uint8Array): ThreadStep[] {
  return [
    { cmd: 'ALLOC', var: 10, len: curve.prePSize },
    { cmd: 'CALL', fnName: `${curve.name}_prepareG1`, params: [{ var: g1Var }, { var: 10 }] },
    { cmd: 'ALLOCSET', var: 11, buff: curve.G2.toJacobian(q) },
    { cmd: 'ALLOC', var: 12, len: curve.preQSize },
    { cmd: 'CALL', fnName: `${curve.name}_prepareG2`, params: [{ var: 11 }, { var: 12 }] },
    { cmd: 'ALLOC', var: 13, len: curve.Gt.n8 },
    { cmd: 'CALL', fnName: `${curve.name}_millerLoop`, params: [{ var: 10 }, { var: 12 }, { var: 13 }] },
    { cmd: 'GET', out: 0, var: 13, len: curve.Gt.n8 },
  ]
}

function millerLoop(curve: Curve, p: Uint8Array, q: Uint8Array): Promise<Uint8Array[]> {
  return curve.tm.queueAction([
    { cmd: 'ALLOCSET', var: 0, buff: curve.G1.toJacobian(p) },
    ...millerSteps(curve, 0, q),
  ])
}

/**
 * Whether every proof of the group verifies, with one random linear combination of their
 * Groth16 equations e(A,B) = e(α,β)·e(L,γ)·e(C,δ):
 *
 *   Π e(−rᵢAᵢ, Bᵢ) · e(Σ rᵢLᵢ, γ) · e(Σ rᵢCᵢ, δ) · e((Σ rᵢ)α, β) = 1
 *
 * n + 3 Miller loops and one final exponentiation (DESIGN §7) instead of 4n and n. Σ rᵢLᵢ
 * is one multi-exponentiation over the key's IC with the weighted sums of the signals.
 */
async function holds(curve: Curve, key: PreparedKey, group: readonly Parsed[]): Promise<boolean> {
  const weights = group.map(() => randomWeight())
  const loops = group.map((item, position) =>
    weightedMillerLoop(curve, item.proof.a, weights[position]!, item.proof.b),
  )
  const icScalars = new Array<bigint>(key.nPublic + 1).fill(0n)
  const pointSize = curve.G1.F.n8 * 2
  const cBases = new Uint8Array(pointSize * group.length)
  group.forEach((item, position) => {
    const weight = weights[position]!
    icScalars[0]! += weight
    item.signals.forEach((signal, index) => {
      icScalars[index + 1]! += weight * signal
    })
    cBases.set(curve.G1.toAffine(item.proof.c), position * pointSize)
  })
  const [l, c] = await Promise.all([
    curve.G1.multiExpAffine(key.icBases, scalarsLE(curve, icScalars)),
    curve.G1.multiExpAffine(cBases, scalarsLE(curve, weights)),
  ])
  const alpha = curve.G1.timesScalar(key.alpha, icScalars[0]! % curve.r)
  loops.push(
    millerLoop(curve, l, key.gamma),
    millerLoop(curve, c, key.delta),
    millerLoop(curve, alpha, key.beta),
  )
  let product = curve.Gt.one
  for (const [result] of await Promise.all(loops)) product = curve.Gt.mul(product, result!)
  return curve.Gt.eq(curve.finalExponentiation(product), curve.Gt.one)
}

/**
 * Verdicts for proofs sharing one verification key, in input order. Malformed proofs and
 * signals are rejected before any pairing, naming what is wrong; the rest are checked in
 * one batch, and a failing batch is bisected until every bad proof is named.
 */
export async function verifyBatch(
  curve: Curve,
  key: PreparedKey,
  items: readonly BatchItem[],
): Promise<Verdict[]> {
  const verdicts = new Array<Verdict>(items.length)
  const wellFormed: Parsed[] = []
  items.forEach((item, index) => {
    try {
      wellFormed.push({
        index,
        proof: parseProof(curve, item.proof),
        signals: parsePublicSignals(item.publicSignals, key.nPublic),
      })
    } catch (error) {
      if (!(error instanceof MalformedProofError)) throw error
      verdicts[index] = { valid: false, reason: `malformed: ${error.message}` }
    }
  })

  // G2 has a cofactor: a point outside the order-r subgroup could make a pairing check pass
  // that should not, so the EVM precompile refuses such points and so do we.
  const inSubgroup = subgroupCheck(curve)
  const candidates = wellFormed.filter((item) => {
    if (inSubgroup(item.proof.b)) return true
    verdicts[item.index] = { valid: false, reason: 'malformed: piB is not in the prime-order subgroup' }
    return false
  })

  /** `failing`: this group is already known to hold a bad proof (its sibling half passed). */
  const settle = async (group: readonly Parsed[], failing: boolean): Promise<void> => {
    if (group.length === 0) return
    if (!failing && (await holds(curve, key, group))) {
      for (const item of group) verdicts[item.index] = { valid: true }
      return
    }
    if (group.length === 1) {
      verdicts[group[0]!.index] = { valid: false, reason: PAIRING_FAILED }
      return
    }
    const middle = Math.ceil(group.length / 2)
    const left = group.slice(0, middle)
    const right = group.slice(middle)
    const leftHolds = await holds(curve, key, left)
    if (leftHolds) for (const item of left) verdicts[item.index] = { valid: true }
    else await settle(left, true)
    // The whole group failed: if the left half holds, the bad proof is on the right.
    await settle(right, leftHolds)
  }
  await settle(candidates, false)
  return verdicts
}

/**
 * The same batch on the native addon (circuits/native: arkworks' multi-Miller loop), with the
 * same verdicts: the checks that need no curve here, with parseProof's messages; on-curve,
 * subgroup, the random linear combination and its bisection in the addon.
 */
export function nativeBatchVerifier(addon: ZkNativeAddon, key: VerificationKeyJson) {
  if (key.protocol !== 'groth16' || key.curve !== 'bn128') {
    throw new MalformedProofError('verification key is not a groth16/bn128 key')
  }
  if (key.IC.length !== key.nPublic + 1) throw new MalformedProofError('verification key IC length is wrong')
  const g2 = (point: string[][]) => [point[0]![0]!, point[0]![1]!, point[1]![0]!, point[1]![1]!]
  const verifier = new addon.Groth16BatchVerifier([
    key.vk_alpha_1[0]!,
    key.vk_alpha_1[1]!,
    ...g2(key.vk_beta_2),
    ...g2(key.vk_gamma_2),
    ...g2(key.vk_delta_2),
    ...key.IC.flatMap((point) => [point[0]!, point[1]!]),
  ])
  const reasons: Record<number, string> = {
    [NATIVE_VERDICT.notInSubgroup]: 'malformed: piB is not in the prime-order subgroup',
    [NATIVE_VERDICT.pairingFailed]: PAIRING_FAILED,
    [NATIVE_VERDICT.aNotOnCurve]: 'malformed: piA is not on the curve',
    [NATIVE_VERDICT.bNotOnCurve]: 'malformed: piB is not on the curve',
    [NATIVE_VERDICT.cNotOnCurve]: 'malformed: piC is not on the curve',
  }
  return {
    async verify(items: readonly BatchItem[]): Promise<Verdict[]> {
      const verdicts = new Array<Verdict>(items.length)
      const flat: string[] = []
      const sent: number[] = []
      items.forEach((item, index) => {
        try {
          const coordinates = proofCoordinates(item.proof)
          parsePublicSignals(item.publicSignals, key.nPublic)
          flat.push(...coordinates, ...item.publicSignals)
          sent.push(index)
        } catch (error) {
          if (!(error instanceof MalformedProofError)) throw error
          verdicts[index] = { valid: false, reason: `malformed: ${error.message}` }
        }
      })
      if (sent.length === 0) return verdicts
      const codes = await verifier.verify(flat)
      sent.forEach((index, position) => {
        const code = codes[position]!
        verdicts[index] =
          code === NATIVE_VERDICT.valid
            ? { valid: true }
            : { valid: false, reason: reasons[code] ?? `native verifier verdict ${code}` }
      })
      return verdicts
    },
  }
}
