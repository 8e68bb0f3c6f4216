import { z } from 'zod'

/**
 * Every StarkNet JSON-RPC answer the listener uses, checked at the boundary (spec 0.10) before
 * anything reads it; the types the listener works with are derived from these schemas. Felts
 * are normalised to lower-case 0x-hex without leading zeros, so hashes compare as strings
 * whatever padding a node uses.
 */
const feltPattern = /^0x[0-9a-fA-F]{1,64}$/
export const felt = z
  .string()
  .regex(feltPattern, 'must be a 0x-prefixed felt')
  .transform((value) => `0x${BigInt(value).toString(16)}`)
const blockNumber = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

export const specVersionSchema = z.string().regex(/^\d+\.\d+\.\d+/, 'must be a spec version such as 0.10.2')
export const blockNumberSchema = blockNumber

/** Statuses of a block that has a hash; a pre-confirmed block has neither hash nor parent link yet. */
export const BlockStatus = {
  acceptedOnL2: 'ACCEPTED_ON_L2',
  acceptedOnL1: 'ACCEPTED_ON_L1',
} as const

export const blockHeaderSchema = z.object({
  status: z.enum([BlockStatus.acceptedOnL2, BlockStatus.acceptedOnL1]),
  block_hash: felt,
  parent_hash: felt,
  block_number: blockNumber,
  timestamp: z.number().int().nonnegative(),
  transaction_commitment: felt,
  event_commitment: felt,
  transactions: z.array(felt),
})
export type BlockHeader = z.infer<typeof blockHeaderSchema>

export const emittedEventSchema = z.object({
  from_address: felt,
  keys: z.array(felt),
  data: z.array(felt),
  // Absent only for events of the pre-confirmed block, which the listener never asks for.
  block_hash: felt,
  block_number: blockNumber,
  transaction_hash: felt,
  /** Position of the transaction in its block. */
  transaction_index: z.number().int().nonnegative(),
  /** Position of the event in its transaction's receipt. */
  event_index: z.number().int().nonnegative(),
})
export type EmittedEvent = z.infer<typeof emittedEventSchema>

export const eventsPageSchema = z.object({
  events: z.array(emittedEventSchema),
  continuation_token: z.string().min(1).optional(),
})
