import { z } from 'zod'

/**
 * Every CometBFT JSON-RPC answer the Cosmos listener and writer use, checked at the boundary
 * (CometBFT 0.38/0.39 JSON: 64-bit integers as decimal strings, hashes as upper-case hex,
 * event attributes as plain strings) before anything reads it; the types are derived from
 * these schemas. Heights become numbers (a chain would need 2^53 blocks to overflow them).
 */
const height = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a decimal height')
  .transform(Number)
/** A block or transaction hash: upper-case hex, as CometBFT writes and explorers show it. */
const hash = z
  .string()
  .regex(/^[0-9A-Fa-f]{64}$/, 'must be a 32-byte hex hash')
  .transform((value) => value.toUpperCase())
/** The empty hash of a block without a parent (height 1 names none). */
const maybeHash = z.union([hash, z.literal('')])

export const statusSchema = z.object({
  node_info: z.object({
    network: z.string().min(1),
    version: z.string(),
  }),
  sync_info: z.object({
    latest_block_height: height,
    latest_block_hash: maybeHash,
    earliest_block_height: height,
    catching_up: z.boolean(),
  }),
})

export const blockMetaSchema = z.object({
  block_id: z.object({ hash }),
  header: z.object({
    chain_id: z.string(),
    height,
    time: z.string(),
    last_block_id: z.object({ hash: maybeHash }),
  }),
  num_txs: z.string().regex(/^\d+$/).transform(Number),
})
export type BlockMeta = z.infer<typeof blockMetaSchema>

export const blockchainSchema = z.object({
  last_height: height,
  block_metas: z.array(blockMetaSchema),
})

const attributeSchema = z.object({
  key: z.string(),
  value: z
    .string()
    .nullish()
    .transform((value) => value ?? ''),
})
export const abciEventSchema = z.object({
  type: z.string(),
  attributes: z
    .array(attributeSchema)
    .nullish()
    .transform((value) => value ?? []),
})
export type AbciEvent = z.infer<typeof abciEventSchema>

export const txResultSchema = z.object({
  hash,
  height,
  /** Position of the transaction in its block. */
  index: z.number().int().nonnegative(),
  tx_result: z.object({
    code: z.number().int().nonnegative().optional().default(0),
    codespace: z.string().optional(),
    log: z.string().optional(),
    events: z
      .array(abciEventSchema)
      .nullish()
      .transform((value) => value ?? []),
  }),
})
export type TxResult = z.infer<typeof txResultSchema>

export const txSearchSchema = z.object({
  txs: z.array(txResultSchema),
  total_count: z.string().regex(/^\d+$/).transform(Number),
})

export const broadcastSyncSchema = z.object({
  code: z.number().int().nonnegative(),
  hash,
  log: z.string().optional(),
  codespace: z.string().optional(),
})

export const abciQuerySchema = z.object({
  response: z.object({
    code: z.number().int().nonnegative().optional().default(0),
    log: z.string().optional(),
    value: z.string().nullish(),
    height: z.string().optional(),
  }),
})
