import { z } from 'zod'

/**
 * The decoded JSON this family takes from @polkadot/api, validated before anything uses it:
 * @polkadot/api decodes SCALE against the runtime's metadata, and these schemas say exactly
 * which parts of its answers the listener and writer rely on.
 */
export const hash32 = z.string().regex(/^0x[0-9a-f]{64}$/, 'a 32-byte hash')
export const blockNumber = z.number().int().nonnegative()

export const headerSchema = z.object({ number: blockNumber, hash: hash32, parentHash: hash32 })
export type PolkadotHeader = z.infer<typeof headerSchema>

/** One entry of `system.events`: its phase (the extrinsic it belongs to, if any) and its data as JSON. */
export const eventRecordSchema = z.object({
  index: z.number().int().nonnegative(),
  extrinsic: z.number().int().nonnegative().nullable(),
  section: z.string().min(1),
  method: z.string().min(1),
  data: z.array(z.unknown()),
})
export type EventRecord = z.infer<typeof eventRecordSchema>

export const remarkedDataSchema = z.tuple([z.string().min(1), hash32])
export const newMultisigDataSchema = z.tuple([z.string().min(1), z.string().min(1), hash32])

/** A leaf call of an extrinsic (batches are flattened), its arguments as JSON. */
export const callSchema = z.object({
  section: z.string().min(1),
  method: z.string().min(1),
  args: z.record(z.string(), z.unknown()),
})
export const extrinsicSchema = z.object({
  index: z.number().int().nonnegative(),
  hash: hash32,
  signer: z.string().nullable(),
  calls: z.array(callSchema),
})
export type PolkadotExtrinsic = z.infer<typeof extrinsicSchema>

export const remarkArgsSchema = z.object({ remark: z.string().regex(/^0x([0-9a-f]{2})*$/) })

/** `multisig.multisigs(account, callHash)`: the use key's entry, if any. */
export const multisigEntrySchema = z
  .object({
    when: z.object({ height: blockNumber, index: z.number().int().nonnegative() }),
    depositor: z.string().min(1),
  })
  .nullable()
