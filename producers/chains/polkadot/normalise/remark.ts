import { blake2AsHex, createKeyMulti, decodeAddress, encodeAddress } from '@polkadot/util-crypto'
import { z } from 'zod'

/**
 * How Veridis state lives on a Polkadot-family chain without a pallet of its own (no runtime
 * can be compiled here, and none has to be deployed on a public chain):
 *
 * - every Veridis record is a `system.remarkWithEvent` whose bytes are `veridis:1:` + JSON
 *   (below), signed by one of the chain's configured Veridis writers (the relayer, the
 *   attester). The `Remarked` event carries only the sender and the remark's blake2-256
 *   hash; the listener reads the payload from the extrinsic and checks it against that hash.
 * - a nullifier use is that remark batched atomically (`utility.batchAll`) with
 *   `multisig.approveAsMulti(2, <the other writers>, None, useKey(scope, nullifier))`: the
 *   first approval of a call hash creates the storage entry `Multisigs(registry, useKey)`,
 *   and the pallet refuses a second "first approval" of the same hash (`NoTimepoint`), from
 *   any of the writers, so the whole batch fails. `registry` is the multisig account of
 *   the writers (threshold 2). The key is a full 256-bit blake2 hash, so — unlike the u32
 *   ids of `uniques`/`assets` on this runtime — distinct uses cannot collide in practice.
 *
 * The guarantee: one use per (scope, nullifier) among Veridis writes on that chain is
 * enforced on-chain; the record's content (root, origin chain) is attested by the writer
 * that signed it, as a relayer's record is on every chain.
 */
export const REMARK_PREFIX = 'veridis:1:'

const u8aToHex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`

const decimal = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'a decimal field element')
const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/)

export const veridisRecordSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('NullifierUsed'), scope: decimal, nullifier: decimal, root: decimal.nullable() }),
  z.object({
    t: z.literal('NullifierRelayed'),
    scope: decimal,
    nullifier: decimal,
    root: decimal.nullable(),
    origin: z.string().regex(/^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,64}$/),
  }),
  z.object({ t: z.literal('AttestationIssued'), id: decimal, root: decimal, schemaId: hex32.nullable() }),
  z.object({ t: z.literal('AttestationRevoked'), id: decimal, reason: z.string().max(1_000).nullable() }),
  z.object({ t: z.literal('AttestationRootUpdated'), previousRoot: decimal.nullable(), root: decimal }),
])
export type VeridisRecord = z.infer<typeof veridisRecordSchema>

export const isNullifierRecord = (
  record: VeridisRecord,
): record is Extract<VeridisRecord, { t: 'NullifierUsed' | 'NullifierRelayed' }> =>
  record.t === 'NullifierUsed' || record.t === 'NullifierRelayed'

/** The remark bytes (0x hex) of a record. */
export function encodeRemark(record: VeridisRecord): string {
  return u8aToHex(new TextEncoder().encode(REMARK_PREFIX + JSON.stringify(veridisRecordSchema.parse(record))))
}

/** The record in remark bytes, or undefined for a remark that is not a well-formed Veridis record. */
export function decodeRemark(remarkHex: string): VeridisRecord | undefined {
  const text = Buffer.from(remarkHex.replace(/^0x/, ''), 'hex').toString('utf8')
  if (!text.startsWith(REMARK_PREFIX)) return undefined
  try {
    const parsed = veridisRecordSchema.safeParse(JSON.parse(text.slice(REMARK_PREFIX.length)))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/** blake2-256 of the remark bytes: what the `Remarked` event carries. */
export const remarkHash = (remarkHex: string) => blake2AsHex(remarkHex, 256)

const word = (value: string) => BigInt(value).toString(16).padStart(64, '0')

/** The on-chain key of one use: blake2-256("veridis:nullifier:" ‖ scope ‖ nullifier), 32-byte big-endian words. */
export function useKey(scope: string, nullifier: string): string {
  const tag = Buffer.from('veridis:nullifier:').toString('hex')
  return blake2AsHex(`0x${tag}${word(scope)}${word(nullifier)}`, 256)
}

/** An account as the records carry it: 0x + 64 hex digits of the public key. */
export const accountHex = (address: string) => u8aToHex(decodeAddress(address))

/** The writers' multisig account (threshold 2): the "registry" whose storage holds the use keys. */
export function registryAccount(writers: readonly string[]): string {
  return u8aToHex(createKeyMulti([...writers], 2))
}

/** The other writers, as approveAsMulti wants them: SS58, sorted by public key. */
export function otherSignatories(writers: readonly string[], signer: string, ss58Format: number): string[] {
  const me = accountHex(signer)
  return writers
    .map(accountHex)
    .filter((account) => account !== me)
    .sort()
    .map((account) => encodeAddress(account, ss58Format))
}
