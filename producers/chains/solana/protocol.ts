import { createHash } from 'node:crypto'
import { z } from 'zod'

/**
 * Veridis state on Solana without a program of its own. No toolchain here compiles SBF
 * programs (shared/chains-offline.md), so the protocol uses what every Solana cluster has:
 *
 * - A nullifier use is one transaction signed by the registry authority (the base key) with
 *   `SystemProgram.createAccountWithSeed(base = authority, seed = nullifierSeed(scope,
 *   nullifier), owner = the Memo program, space 0)` and a Memo instruction carrying the fact.
 *   The System program refuses to create an account that exists, so the chain itself enforces
 *   one use per (scope, nullifier) under one authority; the account is owned by the Memo
 *   program, which never debits an account, so once created it cannot be closed, not even by
 *   the authority.
 * - Everything else is relayer-attested: whether a proof was verified before a use was
 *   written (the authority's word), the root and origin chain in the memo, and attestations,
 *   which are memos signed by the attester key.
 *
 * The memo text is `veridis:1:` followed by a JSON object (MEMO_PREFIX, memoSchema).
 */
export const MEMO_PROGRAM_ID = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr'
export const SYSTEM_PROGRAM_ID = '11111111111111111111111111111111'
export const MEMO_PREFIX = 'veridis:1:'

const FIELD_MAX = 2n ** 256n
const decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,77})$/, 'must be a decimal field element')
  .refine((value) => BigInt(value) < FIELD_MAX, 'must be below 2^256')
const schemaId = z.string().regex(/^0x[0-9a-f]{64}$/, 'must be 0x + 64 lower-case hex digits')
const chainId = z.string().regex(/^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/, 'must be a CAIP-2 id')

export const memoSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('NullifierUsed'), scope: decimal, nullifier: decimal, root: decimal.nullable() }),
  z.object({
    k: z.literal('NullifierRelayed'),
    scope: decimal,
    nullifier: decimal,
    root: decimal.nullable(),
    origin: chainId,
  }),
  z.object({ k: z.literal('AttestationIssued'), id: decimal, root: decimal, schema: schemaId.nullable() }),
  z.object({ k: z.literal('AttestationRevoked'), id: decimal, reason: z.string().max(256).nullable() }),
  z.object({ k: z.literal('AttestationRootUpdated'), previousRoot: decimal.nullable(), root: decimal }),
])
export type VeridisMemo = z.infer<typeof memoSchema>

/** The memo text of a fact. */
export function encodeMemo(memo: VeridisMemo): string {
  return `${MEMO_PREFIX}${JSON.stringify(memoSchema.parse(memo))}`
}

/** The fact in a memo, or undefined for a memo that is not a well-formed Veridis one. */
export function decodeMemo(text: string): VeridisMemo | undefined {
  if (!text.startsWith(MEMO_PREFIX)) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(text.slice(MEMO_PREFIX.length))
  } catch {
    return undefined
  }
  const parsed = memoSchema.safeParse(raw)
  return parsed.success ? parsed.data : undefined
}

/**
 * The seed of a nullifier's marker account: 32 characters (the System program's limit) of
 * base64url over sha256 of scope and nullifier, i.e. 192 bits, so two nullifiers never
 * share an account in practice. Decimal inputs are normalised first (leading zeros).
 */
export function nullifierSeed(scope: string, nullifier: string): string {
  return createHash('sha256')
    .update(`veridis:nullifier:v1\u0000${BigInt(scope).toString(10)}\u0000${BigInt(nullifier).toString(10)}`)
    .digest()
    .subarray(0, 24)
    .toString('base64url')
}
