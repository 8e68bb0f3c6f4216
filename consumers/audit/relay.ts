import type { KafkaMessage, Producer } from 'kafkajs'
import type { Bus } from '../../core/bus/connect.ts'
import { HEADER } from '../../core/bus/producer.ts'
import { sleep } from '../../core/bus/retry.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import type { Common } from '../../core/context.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import { inTransaction, type Pool, type PoolClient } from '../../core/db/pool.ts'
import { describeError, NonRetryableError } from '../../core/errors.ts'
import { projectRecords } from './projection.ts'
import { readTopicToEnd } from './reader.ts'

const BATCH = 2_000
// Kafka refuses a partition's record batch over max.message.bytes (1 MiB by default).
const MAX_PARTITION_BYTES = 800 * 1024
const IDLE_POLL_MS = 100

const PUBLISHED_ROWS = jsonRows({
  chain_id: 'text',
  sequence: 'bigint',
})

/**
 * Publishes chained records from the outbox to the audit topic, exactly once:
 *
 * - one relay per scope at a time (a Postgres advisory lock held by its session);
 * - a transactional producer whose id is fixed per scope: connecting fences any earlier
 *   relay process (a zombie that lost the lock) and completes or aborts its open
 *   transaction, so nothing of it can land later;
 * - before publishing, the relay reads the topic past the last projected offset
 *   (read_committed) and projects what a crashed predecessor had committed to Kafka but not
 *   to Postgres, deleting those outbox rows — so nothing is published twice. A record found
 *   there that differs from the outbox row of the same chain and sequence is a fork and
 *   stops the relay rather than writing a second branch;
 * - each batch goes out in one Kafka transaction, then is projected with its offsets and
 *   removed from the outbox in one Postgres transaction. After any failure it reconnects
 *   (fencing itself) and reconciles again.
 */
export function createAuditRelay(
  common: Common,
  options: {
    bus: Bus
    pool: Pool
    topic: string
    transactionalId: string
    onPublished?: (records: readonly AuditEvent[]) => void
  },
) {
  const { bus, pool, topic } = options
  const logger = common.logger.child({ component: 'audit-relay', topic })
  const stopping = new AbortController()
  const signal = AbortSignal.any([stopping.signal, common.shutdown.signal])
  let running: Promise<void> | undefined
  let published = 0

  async function takeLeadership(): Promise<PoolClient | undefined> {
    while (!signal.aborted) {
      try {
        const client = await pool.connect()
        const { rows } = await client
          .query<{ locked: boolean }>(
            `SELECT pg_try_advisory_lock(hashtext('veridis.audit.relay'), hashtext($1)) AS locked`,
            [topic],
          )
          .catch((error: unknown) => {
            client.release()
            throw error
          })
        if (rows[0]?.locked) return client
        client.release()
      } catch (error) {
        // The database may still be starting: wait for it like the consumer does.
        logger.warn({ err: describeError(error) }, 'cannot take the relay lock yet; retrying')
      }
      await sleep(1_000, signal).catch(() => undefined)
    }
    return undefined
  }

  /** Records on the topic, at their offsets, enter the projection and leave the outbox. */
  async function projectPublished(
    client: PoolClient,
    records: readonly { partition: number; offset: string; record: AuditEvent }[],
  ) {
    await projectRecords(client, topic, records)
    await client.query(
      `DELETE FROM audit_outbox o USING ${PUBLISHED_ROWS.from('$2')} AS f
       WHERE o.scope = $1 AND o.chain_id = f.chain_id AND o.sequence = f.sequence`,
      [
        topic,
        PUBLISHED_ROWS.param(
          records.map(({ record }) => ({ chain_id: record.chainId, sequence: record.sequence })),
        ),
      ],
    )
  }

  /** Projects what is on the topic beyond the projection, removing it from the outbox. */
  async function reconcile() {
    const { rows } = await pool.query<{ kafka_partition: number; next: string }>(
      `SELECT kafka_partition, (MAX(kafka_offset) + 1)::text AS next FROM audit_records WHERE scope = $1
       GROUP BY kafka_partition`,
      [topic],
    )
    const offsets = new Map(rows.map((row) => [row.kafka_partition, row.next]))
    const found: { partition: number; offset: string; record: AuditEvent }[] = []
    await readTopicToEnd(bus.kafka, topic, { offsets }, async (partition, message: KafkaMessage) => {
      const record = (await bus.codec.decodeValue(topic, message.value)) as AuditEvent
      found.push({ partition, offset: message.offset, record })
    })
    if (found.length === 0) return
    await inTransaction(pool, async (client) => {
      for (const { record } of found) {
        const { rows: queued } = await client.query<{ record: AuditEvent }>(
          'SELECT record FROM audit_outbox WHERE scope = $1 AND chain_id = $2 AND sequence = $3',
          [topic, record.chainId, record.sequence],
        )
        const expected = queued[0]?.record
        if (expected && expected.recordHash !== record.recordHash) {
          throw new NonRetryableError(
            `fork: ${topic} holds another record at ${record.chainId}/${record.sequence} than the chain state`,
          )
        }
      }
      await projectPublished(client, found)
    })
    logger.info({ records: found.length }, 'reconciled records a previous relay had published')
  }

  async function publishBatch(producer: Producer): Promise<number> {
    const { rows: fetched } = await pool.query<{
      kafka_partition: number
      record_key: string
      record: AuditEvent
    }>(
      `SELECT kafka_partition, record_key, record FROM audit_outbox WHERE scope = $1
       ORDER BY chain_id, sequence LIMIT $2`,
      [topic, BATCH],
    )
    if (fetched.length === 0) return 0
    // Rows come in chain order: once a partition's budget is spent, the rest of its chain
    // waits for the next transaction, and what is sent stays a prefix of every chain.
    const bytes = new Map<number, number>()
    const messages = []
    const rowsSent: typeof fetched = []
    for (const row of fetched) {
      const value = bus.codec.encodeValue(topic, row.record)
      const used = bytes.get(row.kafka_partition) ?? 0
      if (used > 0 && used + value.length > MAX_PARTITION_BYTES) {
        bytes.set(row.kafka_partition, Number.POSITIVE_INFINITY)
        continue
      }
      bytes.set(row.kafka_partition, used + value.length + 64)
      rowsSent.push(row)
      messages.push({
        partition: row.kafka_partition,
        key: bus.codec.encodeKey(topic, row.record_key),
        value,
        headers: { [HEADER.eventId]: row.record.auditId, [HEADER.producer]: 'audit' },
      })
    }
    const rows = rowsSent
    const transaction = await producer.transaction()
    let metadata: Awaited<ReturnType<typeof transaction.send>>
    try {
      metadata = await transaction.send({ topic, messages })
      await transaction.commit()
    } catch (error) {
      await transaction.abort().catch(() => undefined)
      throw error
    }
    // One batch per partition per request: a record's offset is its batch's base offset
    // plus its position among the records of its partition.
    const base = new Map(metadata.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]))
    const seen = new Map<number, bigint>()
    const placed = rows.map((row) => {
      const index = seen.get(row.kafka_partition) ?? 0n
      seen.set(row.kafka_partition, index + 1n)
      const start = base.get(row.kafka_partition)
      if (start === undefined || start < 0n)
        throw new Error(`no offset returned for partition ${row.kafka_partition}`)
      return { partition: row.kafka_partition, offset: (start + index).toString(), record: row.record }
    })
    await inTransaction(pool, (client) => projectPublished(client, placed))
    published += rows.length
    options.onPublished?.(rows.map((row) => row.record))
    return rows.length
  }

  async function run() {
    const leader = await takeLeadership()
    if (!leader) return
    logger.info('publishing audit records')
    try {
      while (!signal.aborted) {
        const producer = bus.kafka.producer({
          transactionalId: options.transactionalId,
          idempotent: true,
          maxInFlightRequests: 1,
          allowAutoTopicCreation: false,
        })
        try {
          await bus.codec.resolveIds([topic])
          await producer.connect()
          await reconcile()
          while (!signal.aborted) {
            const sent = await publishBatch(producer)
            if (sent === 0) await sleep(IDLE_POLL_MS, signal).catch(() => undefined)
          }
        } catch (error) {
          if (error instanceof NonRetryableError) throw error
          if (!signal.aborted) {
            logger.warn({ err: describeError(error) }, 'audit relay failed; reconnecting and reconciling')
            await sleep(1_000, signal).catch(() => undefined)
          }
        } finally {
          await producer.disconnect().catch(() => undefined)
        }
      }
    } finally {
      await leader
        .query(`SELECT pg_advisory_unlock(hashtext('veridis.audit.relay'), hashtext($1))`, [topic])
        .catch(() => undefined)
      leader.release()
    }
  }

  return {
    start() {
      running = run().catch((error: unknown) => {
        logger.error({ err: describeError(error) }, 'audit relay stopped')
        void common.shutdown.shutdown('audit relay stopped', 1)
      })
    },
    published: () => published,
    async stop() {
      stopping.abort()
      await running
    },
  }
}
