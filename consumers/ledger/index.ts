import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import { type ChainEventValue, ledgerHandler } from './project.ts'

/**
 * The chain-event ledger: projects every attestation, nullifier and bridge event into
 * Postgres with its current finality. Each finality a fact reaches is counted once, however
 * often its message is delivered (project.ts). Read models and status endpoints build on it;
 * its counters are the pipeline's end-to-end check.
 */
export const ledgerConsumer: ConsumerModule<ChainEventValue> = {
  name: 'ledger',
  description: 'projects chain events and their finality into Postgres',
  create: ({ common, bus, pool, group }) => ({
    name: 'ledger',
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
    handle: ledgerHandler({ pool, group, duplicates: common.metrics.bus.duplicatesSkipped }),
  }),
}
