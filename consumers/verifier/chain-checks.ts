import { type CircuitName, type CircuitSpec, publicSignalIndex } from '../../circuits/catalog.ts'
import type { Pool } from '../../core/db/pool.ts'
import { knownRoots, usedNullifiers } from './facts.ts'

export interface ChainCheck {
  readonly circuit: CircuitName
  readonly publicSignals: readonly string[]
  readonly chain: string
}

/** The public signals a chain can vouch for: the tree root and the nullifier. */
function rootAndNullifier(spec: CircuitSpec, signals: readonly string[]) {
  switch (spec.circuit) {
    case 'IDENTITY_MEMBERSHIP':
      return {
        root: signals[publicSignalIndex(spec, 'merkleTreeRoot')]!,
        nullifier: signals[publicSignalIndex(spec, 'nullifier')]!,
      }
    case 'ATTESTATION_DISCLOSURE':
      return {
        root: signals[publicSignalIndex(spec, 'attestationRoot')]!,
        nullifier: signals[publicSignalIndex(spec, 'nullifier')]!,
      }
    case 'ERASURE':
      return undefined
  }
}

/**
 * For proofs that verified and name an expected chain: the root they prove membership in
 * must be one that chain has published (and not retracted), and their nullifier must not
 * be used there yet. The nullifier hash already binds its scope (and, for attestations,
 * the application), so it is looked up as it is. Returns a reason per failing check, or
 * undefined where the proof passes. Signals were checked to be canonical decimals.
 */
export async function checkAgainstChains(
  pool: Pool,
  specs: Readonly<Record<CircuitName, CircuitSpec>>,
  checks: readonly ChainCheck[],
): Promise<(string | undefined)[]> {
  const facts = checks.map((check) => rootAndNullifier(specs[check.circuit], check.publicSignals))
  const lookups = checks.flatMap((check, index) => {
    const fact = facts[index]
    return fact ? [{ chain: check.chain, ...fact }] : []
  })
  const [roots, nullifiers] = await Promise.all([knownRoots(pool, lookups), usedNullifiers(pool, lookups)])
  return checks.map((check, index) => {
    const fact = facts[index]
    if (!fact) return `${check.circuit} roots are not published by chains; expectedChain cannot be checked`
    if (!roots.has(`${check.chain}|${fact.root}`)) return `root is not one ${check.chain} has published`
    if (nullifiers.has(`${check.chain}|${fact.nullifier}`)) return `nullifier already used on ${check.chain}`
    return undefined
  })
}
