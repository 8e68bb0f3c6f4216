import type { Counter } from 'prom-client'
import { chainEventKind } from '../../core/bus/chain-event-kind.ts'
import type { BatchHandler, ConsumedMessage } from '../../core/bus/consumer.ts'
import { FINALITY_RANK, finalityRankSql } from '../../core/bus/finality.ts'
import type {
  AttestationEvent,
  BridgeEvent,
  ChainEventEnvelope,
  Finality,
  NullifierEvent,
} from '../../core/bus/types.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import type { Pool, PoolClient } from '../../core/db/pool.ts'
import { NonRetryableError } from '../../core/errors.ts'
import { inSpan, SPAN_KIND } from '../../core/tracing/tracing.ts'

/** What every chain event value has in common: the envelope plus one changing part. */
export interface ChainEventValue {
  readonly envelope: ChainEventEnvelope
  readonly change?: Record<string, unknown>
  readonly action?: Record<string, unknown>
}

/**
 * Name of the fact: the record name of the union branch; for nullifier events, which have no
 * union, the name of the on-chain log they came from (the same names the listener counts
 * by), so a relayer's copy is not mistaken for a use.
 */
export function eventKind(topic: string, value: ChainEventValue): string {
  if (!value.change && !value.action && !topic.endsWith('veridis.chain.nullifier.v1')) {
    throw new NonRetryableError(`cannot tell the kind of a chain event on ${topic}`)
  }
  return chainEventKind({ value: value as unknown as AttestationEvent | NullifierEvent | BridgeEvent })
}

/**
 * A chunk's facts as one parameter of positional tuples (core/db/json-rows.ts): thirteen
 * array literals would be escaped element by element, and JSON objects cost Postgres a
 * parse of every key of every row.
 */
export const CHAIN_EVENT_ROWS = jsonRows({
  event_id: 'text',
  topic: 'text',
  kind: 'text',
  chain: 'text',
  block_number: 'bigint',
  block_hash: 'text',
  tx_hash: 'text',
  log_index: 'integer',
  emitter: 'text',
  finality: 'text',
  observed_ms: 'float8',
  kafka_partition: 'integer',
  kafka_offset: 'text',
})

/**
 * The ledger's upsert of a chunk's facts, reading them from `source`: a FROM item, aliased
 * `e`, with CHAIN_EVENT_ROWS's columns. A fact's row changes only when its finality moves
 * forward (core/bus/finality.ts: a re-inclusion's second PENDING ranks below RETRACTED, so
 * the fact shows RETRACTED until it is finalized), and then remembers where it moved from.
 * Exported for bench/sql-rows.ts, which runs it with other forms of the same rows.
 */
export const upsertChainEventsSql = (source: string) =>
  `INSERT INTO chain_events AS current (event_id, topic, kind, chain, block_number, block_hash, tx_hash, log_index,
       emitter, finality, observed_at, finality_changed_at, kafka_partition, kafka_offset)
     SELECT e.event_id, e.topic, e.kind, e.chain, e.block_number, e.block_hash, e.tx_hash, e.log_index, e.emitter,
       e.finality, to_timestamp(e.observed_ms / 1000.0), now(), e.kafka_partition, e.kafka_offset
     FROM ${source}
     ON CONFLICT (event_id) DO UPDATE SET
       previous_finality = current.finality,
       finality = EXCLUDED.finality,
       finality_changed_at = now(),
       kafka_partition = EXCLUDED.kafka_partition,
       kafka_offset = EXCLUDED.kafka_offset
     WHERE ${finalityRankSql('EXCLUDED.finality')} > ${finalityRankSql('current.finality')}`

/**
 * The states a fact passed through within one chunk before its last (PENDING then FINALIZED
 * in one chunk): the upsert writes only the last, since one INSERT cannot touch a row twice,
 * but each counts as a transition when it is beyond what the ledger held.
 */
const PASSED_ROWS = jsonRows({ event_id: 'text', finality: 'text' })

/**
 * A chunk in one statement, atomic on its own: the upsert, then the counters of the
 * transitions it made. A fact counts each finality it reaches once: the upsert's RETURNING
 * lists the rows it changed with the finality each one left (NULL for a new fact), and a
 * passed state counts only when it ranks above that. A message applied again (a redelivery
 * after a crash, a listener's repeat after a restart) changes no row and counts nothing, with
 * no message id recorded: the unique-index insert of an id cost Postgres 18 µs a message, more
 * than the rest of the ledger's work on it (docs/benchmarks.md).
 */
const APPLY_CHAIN_EVENTS = `
  WITH changed AS (
    ${upsertChainEventsSql(`${CHAIN_EVENT_ROWS.from('$1')} AS e`)}
    RETURNING event_id, chain, topic, finality, previous_finality, block_number, observed_at
  ), reached AS (
    SELECT c.chain, c.topic, c.finality, c.block_number, c.observed_at FROM changed c
    UNION ALL
    SELECT c.chain, c.topic, p.finality, c.block_number, c.observed_at
    FROM ${PASSED_ROWS.from('$2')} AS p JOIN changed c ON c.event_id = p.event_id
    WHERE ${finalityRankSql('p.finality')} > COALESCE(${finalityRankSql('c.previous_finality')}, 0)
  ), increments AS (
    SELECT chain, topic, finality, count(*) AS transitions, max(block_number) AS last_block_number,
      max(observed_at) AS last_observed_at
    FROM reached
    GROUP BY chain, topic, finality
  ), counted AS (
    -- Partitions are applied concurrently and share these counter rows: ORDER BY takes the
    -- row locks in one global order, so two statements cannot deadlock on each other.
    INSERT INTO chain_event_stats AS current (chain, topic, finality, events_total, last_block_number, last_observed_at)
    SELECT chain, topic, finality, transitions, last_block_number, last_observed_at
    FROM increments
    ORDER BY chain, topic, finality
    ON CONFLICT (chain, topic, finality) DO UPDATE SET
      events_total = current.events_total + EXCLUDED.events_total,
      last_block_number = GREATEST(current.last_block_number, EXCLUDED.last_block_number),
      last_observed_at = GREATEST(current.last_observed_at, EXCLUDED.last_observed_at)
  )
  SELECT COALESCE(sum(transitions), 0)::int AS transitions FROM increments`

/** A fact's row in the ledger, with CHAIN_EVENT_ROWS's columns. */
export function chainEventRow(message: ConsumedMessage<ChainEventValue>) {
  const { envelope } = message.value
  return {
    event_id: envelope.eventId,
    topic: message.topic,
    kind: eventKind(message.topic, message.value),
    chain: envelope.chain,
    block_number: envelope.blockNumber,
    block_hash: envelope.blockHash,
    tx_hash: envelope.txHash,
    log_index: envelope.logIndex,
    emitter: envelope.emitter,
    finality: envelope.finality,
    observed_ms: envelope.observedAt,
    kafka_partition: message.partition,
    kafka_offset: message.offset,
  }
}

/**
 * Applies a chunk of chain events to the ledger in one statement, whatever the chunk size,
 * and returns how many messages made a transition; the others were applied before.
 */
export async function applyChainEvents(
  messages: readonly ConsumedMessage<ChainEventValue>[],
  db: Pick<PoolClient, 'query'>,
): Promise<number> {
  // Per fact, its furthest state (the row written) and the states it passed through on the
  // way, each above the one before: a message that does not move its fact forward within the
  // chunk cannot move it forward in the ledger either.
  const latest = new Map<string, ConsumedMessage<ChainEventValue>>()
  const passed: { event_id: string; finality: Finality }[] = []
  for (const message of messages) {
    const { envelope } = message.value
    const seen = latest.get(envelope.eventId)
    if (seen && FINALITY_RANK[envelope.finality] <= FINALITY_RANK[seen.value.envelope.finality]) continue
    if (seen) passed.push({ event_id: envelope.eventId, finality: seen.value.envelope.finality })
    latest.set(envelope.eventId, message)
  }
  const rows = [...latest.values()].map(chainEventRow)
  const { rows: result } = await db.query<{ transitions: number }>(APPLY_CHAIN_EVENTS, [
    CHAIN_EVENT_ROWS.param(rows),
    PASSED_ROWS.param(passed),
  ])
  return result[0]!.transitions
}

/**
 * The ledger's batch handler: each chunk in one statement on a pooled connection. Messages
 * that made no transition (applied before) are counted in `duplicates`.
 */
export function ledgerHandler(options: {
  pool: Pool
  group: string
  duplicates?: Counter<'group'>
}): BatchHandler<ChainEventValue> {
  return (messages) =>
    inSpan(
      'ledger statement',
      {
        kind: SPAN_KIND.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.operation.name': 'INSERT',
          'messaging.consumer.group.name': options.group,
          'messaging.batch.message_count': messages.length,
        },
      },
      async (span) => {
        const unchanged = messages.length - (await applyChainEvents(messages, options.pool))
        if (unchanged > 0) options.duplicates?.inc({ group: options.group }, unchanged)
        span?.setAttribute('veridis.duplicates_skipped', unchanged)
      },
    )
}
