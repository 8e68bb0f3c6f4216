import type {
  AttestationEvent,
  ChainEventEnvelope,
  Finality,
  NullifierEvent,
} from '../../../../core/bus/types.ts'
import { chainEventId } from '../../common/event-id.ts'
import type { ChainEvent } from '../../common/publisher.ts'
import {
  type EventRecord,
  newMultisigDataSchema,
  type PolkadotExtrinsic,
  remarkArgsSchema,
  remarkedDataSchema,
} from '../rpc/schemas.ts'
import { accountHex, decodeRemark, isNullifierRecord, remarkHash, useKey } from './remark.ts'

/**
 * One block's Veridis records → the pipeline's chain events. A record is a `Remarked` event
 * whose sender is a configured writer and whose remark (read from the extrinsic, matched by
 * its blake2 hash) is a well-formed `veridis:1:` payload; a nullifier record also needs, in
 * the same extrinsic, the `NewMultisig` event that created its use key in the writers'
 * multisig account — that is what makes it a use and not just a claim. The envelope's
 * logIndex is the Remarked event's index in the block's `system.events`, its txHash the
 * extrinsic's hash; the emitter and registry are the writers' multisig account.
 */
export interface PolkadotNormaliseContext {
  readonly chain: string
  /** Writers' public keys (0x + 64 hex). */
  readonly writers: ReadonlySet<string>
  /** The writers' multisig account (0x + 64 hex). */
  readonly registry: string
  readonly observedAt: number
  /** Records that are not well formed are skipped and reported here (never thrown: a stalled chain helps no one). */
  readonly onSkipped: (reason: string, details: Record<string, unknown>) => void
}

/** The Remarked events from writers in a block: the only blocks whose extrinsics need reading. */
export function writerRemarks(
  context: Pick<PolkadotNormaliseContext, 'writers'>,
  events: readonly EventRecord[],
) {
  return events.filter((event) => {
    if (event.section !== 'system' || event.method !== 'Remarked' || event.extrinsic === null) return false
    const data = remarkedDataSchema.safeParse(event.data)
    return data.success && context.writers.has(safeAccount(data.data[0]))
  })
}

const safeAccount = (address: string) => {
  try {
    return accountHex(address)
  } catch {
    return ''
  }
}

const nonZero = (value: string | null) => (value === null || value === '0' ? null : value)

export function normalisePolkadotBlock(
  context: PolkadotNormaliseContext,
  block: { readonly number: number; readonly hash: string },
  events: readonly EventRecord[],
  extrinsics: readonly PolkadotExtrinsic[],
  finality: Finality,
): ChainEvent[] {
  const out: ChainEvent[] = []
  for (const remarked of writerRemarks(context, events)) {
    const [senderAddress, hash] = remarkedDataSchema.parse(remarked.data)
    const sender = accountHex(senderAddress)
    const extrinsic = extrinsics[remarked.extrinsic!]
    const where = { block: block.number, extrinsic: remarked.extrinsic, event: remarked.index }
    if (!extrinsic) {
      context.onSkipped('a Remarked event names an extrinsic the block does not have', where)
      continue
    }
    const remark = extrinsic.calls
      .filter((call) => call.section === 'system' && call.method === 'remarkWithEvent')
      .map((call) => remarkArgsSchema.safeParse(call.args))
      .find((args) => args.success && remarkHash(args.data.remark) === hash)
    if (!remark?.success) continue
    const record = decodeRemark(remark.data.remark)
    if (!record) {
      context.onSkipped('a writer remark that is not a Veridis record', where)
      continue
    }
    const envelope: ChainEventEnvelope = {
      eventId: chainEventId({
        chain: context.chain,
        blockHash: block.hash,
        txHash: extrinsic.hash,
        logIndex: remarked.index,
      }),
      chain: context.chain,
      blockNumber: block.number,
      blockHash: block.hash,
      txHash: extrinsic.hash,
      logIndex: remarked.index,
      emitter: context.registry,
      finality,
      observedAt: context.observedAt,
    }
    const registry = context.registry
    if (isNullifierRecord(record)) {
      const key = useKey(record.scope, record.nullifier)
      const created = events.some((event) => {
        if (
          event.extrinsic !== remarked.extrinsic ||
          event.section !== 'multisig' ||
          event.method !== 'NewMultisig'
        )
          return false
        const data = newMultisigDataSchema.safeParse(event.data)
        return (
          data.success &&
          safeAccount(data.data[0]) === sender &&
          safeAccount(data.data[1]) === context.registry &&
          data.data[2] === key
        )
      })
      if (!created) {
        context.onSkipped(
          'a nullifier remark without the use key it must create in the same extrinsic',
          where,
        )
        continue
      }
      const relayed = record.t === 'NullifierRelayed'
      out.push({
        topic: 'nullifier',
        value: {
          envelope,
          registry,
          scope: record.scope,
          nullifier: record.nullifier,
          merkleTreeRoot: nonZero(record.root),
          source: relayed ? 'RELAYER' : 'PROOF',
          originChain: relayed ? record.origin : null,
          proof: null,
          publicSignals: [],
          message: null,
        } satisfies NullifierEvent,
      })
      continue
    }
    let change: AttestationEvent['change']
    switch (record.t) {
      case 'AttestationIssued':
        change = {
          'io.veridis.chain.AttestationIssued': {
            attestationId: record.id,
            issuer: sender,
            root: record.root,
            schemaId: record.schemaId,
          },
        }
        break
      case 'AttestationRevoked':
        change = {
          'io.veridis.chain.AttestationRevoked': {
            attestationId: record.id,
            issuer: sender,
            reason: record.reason === '' ? null : record.reason,
          },
        }
        break
      case 'AttestationRootUpdated':
        change = {
          'io.veridis.chain.AttestationRootUpdated': {
            issuer: sender,
            previousRoot: nonZero(record.previousRoot),
            root: record.root,
          },
        }
        break
    }
    out.push({ topic: 'attestation', value: { envelope, registry, change } satisfies AttestationEvent })
  }
  return out
}
