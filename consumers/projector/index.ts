import { exactlyOnce } from '../../core/db/exactly-once.ts'
import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import { type ProjectedValue, projectMessages, projectorMessageId } from './project.ts'

/**
 * Read models for the gateway's status endpoints: every command on veridis.command.v1
 * (from the gateway or written by upstream systems directly), proof results, nullifier
 * propagation outcomes, alerts and audit references, into Postgres exactly once.
 */
export const projectorConsumer: ConsumerModule<ProjectedValue> = {
  name: 'projector',
  description: 'projects commands and their outcomes into Postgres read models',
  create: ({ common, bus, pool, group }) => ({
    name: 'projector',
    topics: [
      bus.topics.command.name,
      bus.topics.proof.name,
      bus.topics.propagation.name,
      bus.topics.alert.name,
      bus.topics.audit.name,
    ],
    handle: exactlyOnce<ProjectedValue>({
      pool,
      group,
      idOf: projectorMessageId,
      effect: (messages, client) => projectMessages(bus.topics, messages, client),
      duplicates: common.metrics.bus.duplicatesSkipped,
    }),
  }),
}
