import { z } from 'zod'

/**
 * The parts of Solana JSON-RPC answers the listener relies on, validated at the boundary
 * (squid-sdk style): anything else the node sends is dropped, anything missing fails the call.
 */
const base58 = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,88}$/, 'must be base58')
export const slotSchema = z.number().int().nonnegative()
export const genesisHashSchema = base58
export const versionSchema = z.object({ 'solana-core': z.string() })

export const blockHeaderSchema = z.object({
  blockhash: base58,
  previousBlockhash: base58,
  parentSlot: slotSchema,
  blockHeight: z.number().int().nonnegative().nullable(),
})
export type BlockHeader = z.infer<typeof blockHeaderSchema>

/** Slots of produced blocks (getBlocksWithLimit). */
export const slotListSchema = z.array(slotSchema)

export const signatureInfoSchema = z.object({
  signature: base58,
  slot: slotSchema,
  err: z.unknown().nullable(),
})
export const signaturePageSchema = z.array(signatureInfoSchema)
export type SignatureInfo = z.infer<typeof signatureInfoSchema>

/** An instruction in `jsonParsed` encoding: parsed for the programs the node knows (System, Memo). */
const instructionSchema = z.object({
  programId: base58,
  program: z.string().optional(),
  parsed: z.unknown().optional(),
})

export const parsedTransactionSchema = z.object({
  meta: z.object({ err: z.unknown().nullable() }).nullable(),
  transaction: z.object({
    signatures: z.array(base58).min(1),
    message: z.object({
      accountKeys: z.array(z.object({ pubkey: base58, signer: z.boolean() })),
      instructions: z.array(instructionSchema),
    }),
  }),
})
export type ParsedTransaction = z.infer<typeof parsedTransactionSchema>

export const fullBlockSchema = blockHeaderSchema.extend({
  transactions: z.array(parsedTransactionSchema),
})
export type FullBlock = z.infer<typeof fullBlockSchema>

/** System program createAccountWithSeed, as jsonParsed gives it. */
export const createWithSeedSchema = z.object({
  type: z.literal('createAccountWithSeed'),
  info: z.object({
    base: base58,
    seed: z.string(),
    newAccount: base58,
    owner: base58,
    source: base58,
  }),
})
