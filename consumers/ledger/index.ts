import { exactlyOnce } from '../../core/db/exactly-once.ts'
import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import { type ChainEventValue, ledgerMessageId, projectChainEvents } from './project.ts'

/**
 * The chain-event ledger: projects every attestation, nullifier and bridge event into
 * Postgres with its current finality, exactly once. Read models and status endpoints
 * build on it; its counters are the pipeline's end-to-end check.
 */
export const ledgerConsumer: ConsumerModule<ChainEventValue> = {
  name: 'ledger',
  description: 'projects chain events and their finality into Postgres',
  create: ({ common, bus, pool, group }) => ({
    name: 'ledger',
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
    handle: exactlyOnce<ChainEventValue>({
      pool,
      group,
      idOf: ledgerMessageId,
      effect: projectChainEvents,
      duplicates: common.metrics.bus.duplicatesSkipped,
    }),
  }),
}
