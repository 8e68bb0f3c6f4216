import type { Counter } from 'prom-client'
import type { BatchHandler, ConsumedMessage, HandlerContext } from '../bus/consumer.ts'
import { NonRetryableError } from '../errors.ts'
import { inSpan, SPAN_KIND } from '../tracing/tracing.ts'
import type { Pool, PoolClient } from './pool.ts'

/**
 * Effects into Postgres exactly once, although Kafka delivers at least once: the
 * `(consumer group, message id)` pairs are inserted in the same transaction as the
 * effect, and only messages whose pair was new reach `effect`. A crash before COMMIT
 * undoes both; a crash after COMMIT but before the offset commit redelivers messages that
 * are then recognised and skipped.
 */
export function exactlyOnce<T>(options: {
  pool: Pool
  group: string
  /** The message's identity. Defaults to its `eventId` header. */
  idOf?: (message: ConsumedMessage<T>) => string
  effect: (
    messages: readonly ConsumedMessage<T>[],
    client: PoolClient,
    context: HandlerContext,
  ) => Promise<void>
  duplicates?: Counter<'group'>
}): BatchHandler<T> {
  const idOf =
    options.idOf ??
    ((message: ConsumedMessage<T>) => {
      if (!message.eventId) {
        throw new NonRetryableError(
          `message ${message.topic}/${message.partition}/${message.offset} has no eventId header`,
        )
      }
      return message.eventId
    })

  return async (messages, context) => {
    const byId = new Map<string, ConsumedMessage<T>>()
    for (const message of messages) {
      const id = idOf(message)
      if (!byId.has(id)) byId.set(id, message)
    }
    // One span for the whole transaction: bookkeeping, effect and COMMIT.
    await inSpan(
      'exactly-once transaction',
      {
        kind: SPAN_KIND.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.operation.name': 'TRANSACTION',
          'messaging.consumer.group.name': options.group,
          'messaging.batch.message_count': messages.length,
        },
      },
      async (span) => {
        const skipped = messages.length - (await transaction(byId, context))
        if (skipped > 0) options.duplicates?.inc({ group: options.group }, skipped)
        span?.setAttribute('veridis.duplicates_skipped', skipped)
      },
    )
  }

  /** Applies the effect of the messages not seen before, in one transaction; returns how many. */
  async function transaction(
    byId: ReadonlyMap<string, ConsumedMessage<T>>,
    context: HandlerContext,
  ): Promise<number> {
    const client = await options.pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query<{ message_id: string }>(
        `INSERT INTO bus_processed_messages (consumer_group, message_id)
         SELECT $1, unnest($2::text[])
         ON CONFLICT DO NOTHING
         RETURNING message_id`,
        [options.group, [...byId.keys()]],
      )
      const fresh = new Set(rows.map((row) => row.message_id))
      const toApply = [...byId].filter(([id]) => fresh.has(id)).map(([, message]) => message)
      if (toApply.length > 0) await options.effect(toApply, client, context)
      await client.query('COMMIT')
      return toApply.length
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
  }
}

/**
 * Forgets message ids older than `retentionDays`, in slices so a large backlog never holds
 * long locks. Redelivery cannot reach further back than the topics' retention (30 days for
 * chain events), so ids older than that protect nothing. Returns the rows removed.
 */
export async function pruneProcessedMessages(
  pool: Pool,
  group: string,
  retentionDays: number,
): Promise<number> {
  let removed = 0
  for (;;) {
    const { rowCount } = await pool.query(
      `DELETE FROM bus_processed_messages
       WHERE ctid IN (
         SELECT ctid FROM bus_processed_messages
         WHERE consumer_group = $1 AND processed_at < now() - make_interval(days => $2)
         LIMIT 10000)`,
      [group, retentionDays],
    )
    removed += rowCount ?? 0
    if (!rowCount) return removed
  }
}
