import type { Curve } from 'ffjavascript'
import type { IoVeridis } from '../schemas/generated/veridis.proof.v1.ts'
import { SNARK_SCALAR_FIELD } from './catalog.ts'

/** The BN254 base field: every point coordinate is below it. */
export const BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n

export type Groth16Proof = IoVeridis.Groth16Proof

/** A proof or key that is not what it claims to be; the message names the part, never a value. */
export class MalformedProofError extends Error {
  override name = 'MalformedProofError'
}

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/

function element(value: unknown, modulus: bigint, what: string): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) {
    throw new MalformedProofError(`${what} is not a decimal number`)
  }
  const number = BigInt(value)
  if (number >= modulus) throw new MalformedProofError(`${what} is not below the field modulus`)
  return number
}

/** Public signals as field elements: decimal, canonical (below the scalar field), the expected count. */
export function parsePublicSignals(signals: readonly unknown[], expected: number): bigint[] {
  if (signals.length !== expected) {
    throw new MalformedProofError(`expected ${expected} public signals, got ${signals.length}`)
  }
  return signals.map((signal, index) => element(signal, SNARK_SCALAR_FIELD, `public signal ${index}`))
}

/**
 * A G1 point in snarkjs form [x, y, 1] (or [0, 1, 0] for infinity), or affine [x, y] as
 * Semaphore's unpacked proofs carry it; checked on the curve.
 */
export function parseG1(curve: Curve, point: readonly unknown[], what: string): Uint8Array {
  if (point.length !== 2 && point.length !== 3)
    throw new MalformedProofError(`${what} must have 2 or 3 coordinates`)
  const [x, y, z = 1n] = point.map((coordinate, index) =>
    element(coordinate, BASE_FIELD, `${what}[${index}]`),
  )
  if (z === 0n && x === 0n && y === 1n) return curve.G1.zeroAffine
  if (z !== 1n) throw new MalformedProofError(`${what} is not in affine form (z must be 1)`)
  const parsed = curve.G1.fromObject([x, y, 1n])
  if (!curve.G1.isValid(parsed)) throw new MalformedProofError(`${what} is not on the curve`)
  return parsed
}

/**
 * A G2 point in snarkjs form [[x0, x1], [y0, y1], [1, 0]] (or affine without the third
 * pair), on the twist, and with `subgroup` in the order-r subgroup.
 */
export function parseG2(
  curve: Curve,
  point: readonly unknown[],
  what: string,
  options: { subgroup: boolean },
): Uint8Array {
  if (
    (point.length !== 2 && point.length !== 3) ||
    !point.every((pair) => Array.isArray(pair) && pair.length === 2)
  ) {
    throw new MalformedProofError(`${what} must have 2 or 3 coordinates of 2 elements each`)
  }
  const [x, y, z = [1n, 0n]] = (point as unknown[][]).map((pair, index) =>
    pair.map((coordinate, half) => element(coordinate, BASE_FIELD, `${what}[${index}][${half}]`)),
  ) as [bigint, bigint][]
  if (z[0] !== 1n || z[1] !== 0n) throw new MalformedProofError(`${what} is not in affine form (z must be 1)`)
  const parsed = curve.G2.fromObject([x, y, [1n, 0n]])
  if (!curve.G2.isValid(parsed)) throw new MalformedProofError(`${what} is not on the curve`)
  // Batches check proof points with the faster endomorphism test
  // (consumers/verifier/subgroup.ts); keys, parsed once, take the plain r·Q = 0.
  if (options.subgroup && !curve.G2.isZero(curve.G2.timesScalar(parsed, curve.r))) {
    throw new MalformedProofError(`${what} is not in the prime-order subgroup`)
  }
  return parsed
}

export interface ParsedProof {
  readonly a: Uint8Array
  readonly b: Uint8Array
  readonly c: Uint8Array
}

export function parseProof(curve: Curve, proof: Groth16Proof): ParsedProof {
  if (proof.protocol !== 'groth16') throw new MalformedProofError(`protocol must be groth16`)
  if (proof.curve !== 'bn128') throw new MalformedProofError(`curve must be bn128`)
  return {
    a: parseG1(curve, proof.piA, 'piA'),
    b: parseG2(curve, proof.piB, 'piB', { subgroup: false }),
    c: parseG1(curve, proof.piC, 'piC'),
  }
}

/** snarkjs's proof object (pi_a, pi_b, pi_c) as our Groth16Proof record, and back. */
export interface SnarkjsProof {
  pi_a: string[]
  pi_b: string[][]
  pi_c: string[]
  protocol: string
  curve: string
}

export function fromSnarkjsProof(proof: SnarkjsProof): Groth16Proof {
  return { piA: proof.pi_a, piB: proof.pi_b, piC: proof.pi_c, protocol: proof.protocol, curve: proof.curve }
}

export function toSnarkjsProof(proof: Groth16Proof): SnarkjsProof {
  return { pi_a: proof.piA, pi_b: proof.piB, pi_c: proof.piC, protocol: proof.protocol, curve: proof.curve }
}

/**
 * A proof's affine coordinates as decimal strings, A (x, y), B (x₀, x₁, y₀, y₁), C (x, y),
 * for the native batch verifier: the checks of parseProof that need no curve (protocol,
 * shape, decimal, below the field modulus, affine), with its messages; the point at infinity
 * of G1 becomes two empty strings. Whether the points are on the curve is the native side's check.
 */
export function proofCoordinates(proof: Groth16Proof): string[] {
  if (proof.protocol !== 'groth16') throw new MalformedProofError(`protocol must be groth16`)
  if (proof.curve !== 'bn128') throw new MalformedProofError(`curve must be bn128`)
  const g1 = (point: readonly unknown[], what: string): string[] => {
    if (point.length !== 2 && point.length !== 3)
      throw new MalformedProofError(`${what} must have 2 or 3 coordinates`)
    const [x, y, z = 1n] = point.map((coordinate, index) =>
      element(coordinate, BASE_FIELD, `${what}[${index}]`),
    )
    if (z === 0n && x === 0n && y === 1n) return ['', '']
    if (z !== 1n) throw new MalformedProofError(`${what} is not in affine form (z must be 1)`)
    return [point[0] as string, point[1] as string]
  }
  const b = proof.piB as readonly unknown[]
  if ((b.length !== 2 && b.length !== 3) || !b.every((pair) => Array.isArray(pair) && pair.length === 2)) {
    throw new MalformedProofError(`piB must have 2 or 3 coordinates of 2 elements each`)
  }
  const [x, y, z = [1n, 0n]] = (b as unknown[][]).map((pair, index) =>
    pair.map((coordinate, half) => element(coordinate, BASE_FIELD, `piB[${index}][${half}]`)),
  ) as [bigint, bigint][]
  if (z[0] !== 1n || z[1] !== 0n) throw new MalformedProofError(`piB is not in affine form (z must be 1)`)
  return [...g1(proof.piA, 'piA'), ...[x![0], x![1], y![0], y![1]].map(String), ...g1(proof.piC, 'piC')]
}
