import { z } from 'zod'

/**
 * Every JSON-RPC answer is checked here, at the boundary, before anything uses it (the
 * squid-sdk way): a node that returns something malformed fails loudly instead of
 * publishing garbage. The types the listener works with are derived from these schemas.
 */
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/, 'must be 0x-prefixed hex')
const quantity = z
  .string()
  .regex(/^0x[0-9a-fA-F]+$/, 'must be a hex quantity')
  .transform((value) => Number(BigInt(value)))
  .refine((value) => Number.isSafeInteger(value), 'exceeds 2^53')
const hash32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte hash')
  .transform((value) => value.toLowerCase())
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte address')
  .transform((value) => value.toLowerCase())

export const chainIdSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]+$/)
  .transform((value) => BigInt(value))
export const blockNumberSchema = quantity

export const blockHeaderSchema = z.object({
  number: quantity,
  hash: hash32,
  parentHash: hash32,
  timestamp: quantity,
})
/** eth_getBlockByNumber answers null for a block the node does not have. */
export const maybeBlockHeaderSchema = blockHeaderSchema.nullable()

export const logSchema = z.object({
  address,
  topics: z.array(hash32).max(4),
  data: hex,
  blockNumber: quantity,
  blockHash: hash32,
  transactionHash: hash32,
  logIndex: quantity,
  removed: z.boolean().optional(),
})
export type RpcLog = z.infer<typeof logSchema>
export const logsSchema = z.array(logSchema)

export const codeSchema = hex
