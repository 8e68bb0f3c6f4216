import type { Curve } from 'ffjavascript'

/** The BN254 curve parameter x₀ (the "seed"): p and r are polynomials in it. */
const BN254_SEED = 4965661367192848881n

/**
 * G2 subgroup membership for BN254 in about a quarter of the cost of r·Q = 0, after
 * El Housni, Guillevic and Piellard (ePrint 2022/348, §5.1), as gnark-crypto does it:
 *
 *   Q ∈ G2  ⇔  [x₀+1]Q + ψ([x₀]Q) + ψ²([x₀]Q) = ψ³([2x₀]Q)
 *
 * with ψ the untwist-Frobenius-twist endomorphism ψ(x, y) = (x̄·ξ^((p−1)/3), ȳ·ξ^((p−1)/2)),
 * ξ = 9 + u. One 63-bit scalar multiplication instead of a 254-bit one. The tests check it
 * against r·Q = 0 on points in and outside the subgroup.
 */
export function createG2SubgroupCheck(curve: Curve): (point: Uint8Array) => boolean {
  const F1 = curve.G1.F
  const F2 = curve.G2.F
  const n8 = F1.n8
  const xi = F2.fromObject([9n, 1n] as unknown as bigint)
  const frobeniusX = F2.exp(xi, (curve.q - 1n) / 3n)
  const frobeniusY = F2.exp(xi, (curve.q - 1n) / 2n)
  const conjugate = (element: Uint8Array) => {
    const result = new Uint8Array(2 * n8)
    result.set(element.slice(0, n8))
    result.set(F1.neg(element.slice(n8, 2 * n8)), n8)
    return result
  }
  // Jacobian (X, Y, Z): Frobenius is a field automorphism, so conjugating Z keeps x = X/Z².
  const psi = (point: Uint8Array) => {
    const size = 2 * n8
    const result = new Uint8Array(3 * size)
    result.set(F2.mul(conjugate(point.slice(0, size)), frobeniusX))
    result.set(F2.mul(conjugate(point.slice(size, 2 * size)), frobeniusY), size)
    result.set(conjugate(point.slice(2 * size, 3 * size)), 2 * size)
    return result
  }
  return (point) => {
    const q = curve.G2.toJacobian(point)
    const seedTimes = curve.G2.timesScalar(q, BN254_SEED)
    const psi1 = psi(seedTimes)
    const psi2 = psi(psi1)
    const left = curve.G2.add(curve.G2.add(curve.G2.add(seedTimes, q), psi1), psi2)
    const right = curve.G2.double(psi(psi2))
    return curve.G2.eq(left, right)
  }
}
