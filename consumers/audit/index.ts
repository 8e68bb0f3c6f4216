import type { Bus } from '../../core/bus/connect.ts'
import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import { partitionForKey } from '../../core/bus/partitioner.ts'
import type { Common } from '../../core/context.ts'
import { exactlyOnce } from '../../core/db/exactly-once.ts'
import type { Pool, PoolClient } from '../../core/db/pool.ts'
import { describeError, RetryableError } from '../../core/errors.ts'
import { complianceMetrics } from '../../core/metrics/protocol.ts'
import type { ConsumerModule } from '../../core/service/consumer-process.ts'
import { appendToChains, type ChainPlacement } from './chain.ts'
import { type AuditContext, type AuditInput, auditMessage } from './handle.ts'
import { createAuditRelay } from './relay.ts'
import { countOverdue, purgeExpired } from './retention.ts'
import { createVault, loadAuditKeys, subjectHashOf } from './vault.ts'

const GAUGE_INTERVAL_MS = 15_000

/** Where a key lands in the audit topic: the producer's own murmur2 over the encoded key. */
export async function auditPlacement(bus: Bus): Promise<ChainPlacement> {
  const topic = bus.topics.audit.name
  await bus.codec.resolveIds([topic])
  const admin = bus.kafka.admin()
  await admin.connect()
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    const partitions = metadata.topics[0]?.partitions.length ?? 0
    if (partitions === 0) throw new RetryableError(`no partitions known for ${topic}`)
    return {
      scope: topic,
      partitionOf: (key) => partitionForKey(bus.codec.encodeKey(topic, key), partitions),
    }
  } finally {
    await admin.disconnect()
  }
}

/**
 * The audit service around the consumer: chaining inside each handled chunk's transaction,
 * the relay that publishes chained records, and the retention job with its gauge.
 */
export function createAuditService(common: Common, options: { bus: Bus; pool: Pool }) {
  const { bus, pool } = options
  const { config, logger } = common
  const metrics = complianceMetrics(common.metrics.registry)
  const keys = loadAuditKeys(config)
  const scope = bus.topics.audit.name
  let ready: Promise<{ placement: ChainPlacement; context: AuditContext }> | undefined

  const prepare = () => {
    ready ??= (async () => {
      const placement = await auditPlacement(bus)
      const vault = await createVault(scope, keys)
      const context: AuditContext = {
        topics: {
          command: bus.topics.command.name,
          intake: bus.topics.auditIntake.name,
          attestation: bus.topics.attestation.name,
        },
        vault,
        subjectHashOf: (subjectId) => subjectHashOf(keys, subjectId),
        dataRetentionDays: config.audit.dataRetentionDays,
        now: Date.now,
      }
      return { placement, context }
    })().catch((error: unknown) => {
      ready = undefined
      throw error
    })
    return ready
  }

  const relay = createAuditRelay(common, {
    bus,
    pool,
    topic: scope,
    transactionalId: `${scope}.relay`,
    onPublished: (records) => {
      for (const record of records) metrics.events.inc({ action: record.action })
    },
  })

  const refreshGauge = async () => {
    try {
      metrics.retentionViolations.set(await countOverdue(pool, scope))
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'counting overdue records failed; will retry')
    }
  }

  const retain = async () => {
    try {
      const { placement } = await prepare()
      const purged = await purgeExpired(pool, placement)
      if (purged > 0) logger.info({ purged }, 'purged personal data past its retention period')
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'retention purge failed; will retry')
    }
    await refreshGauge()
  }

  return {
    scope,
    keys,
    prepare,
    relay,
    retain,

    async handle(messages: readonly ConsumedMessage<AuditInput>[], client: PoolClient) {
      const { placement, context } = await prepare()
      const drafts = []
      for (const message of messages) drafts.push(...(await auditMessage(client, context, message)))
      // Last in the transaction: chain heads are locked for as short a time as possible.
      await appendToChains(client, placement, drafts)
    },

    start() {
      relay.start()
      const retentionTimer = setInterval(retain, config.audit.retentionIntervalMs)
      const gaugeTimer = setInterval(refreshGauge, GAUGE_INTERVAL_MS)
      retentionTimer.unref()
      gaugeTimer.unref()
      void retain()
      common.shutdown.onShutdown('audit timers', () => {
        clearInterval(retentionTimer)
        clearInterval(gaugeTimer)
      })
      common.shutdown.onShutdown('audit relay', () => relay.stop())
    },
  }
}

export const auditConsumer: ConsumerModule<AuditInput> = {
  name: 'audit',
  description:
    'the single writer of veridis.audit.v1: audits every command, gateway fact and subject event, hash-chained per partition; erasure and retention',
  create: ({ common, bus, pool, group }) => {
    const service = createAuditService(common, { bus, pool })
    service.start()
    return {
      name: 'audit',
      topics: [bus.topics.command.name, bus.topics.auditIntake.name, bus.topics.attestation.name],
      handle: exactlyOnce<AuditInput>({
        pool,
        group,
        // One audit per fact: a command or chain event published twice carries one event id.
        idOf: (message) =>
          message.eventId
            ? `${message.topic}#${message.eventId}`
            : `${message.topic}:${message.partition}:${message.offset}`,
        effect: (messages, client) => service.handle(messages, client),
        duplicates: common.metrics.bus.duplicatesSkipped,
      }),
    }
  },
}
