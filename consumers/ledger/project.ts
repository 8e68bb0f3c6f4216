import { chainEventKind } from '../../core/bus/chain-event-kind.ts'
import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type {
  AttestationEvent,
  BridgeEvent,
  ChainEventEnvelope,
  Finality,
  NullifierEvent,
} from '../../core/bus/types.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import { NonRetryableError } from '../../core/errors.ts'

/** What every chain event value has in common: the envelope plus one changing part. */
export interface ChainEventValue {
  readonly envelope: ChainEventEnvelope
  readonly change?: Record<string, unknown>
  readonly action?: Record<string, unknown>
}

/**
 * Which state wins when two arrive. RETRACTED beats PENDING and SAFE (the block left the
 * chain). FINALIZED beats everything, RETRACTED included: a block that left the chain and came
 * back (reorg A→B→A) is republished under the same event id, and once finalized that is the
 * chain's last word. The re-inclusion's second PENDING is recognised as already seen, so the
 * fact shows RETRACTED until it is finalized.
 */
const FINALITY_RANK: Record<Finality, number> = { PENDING: 0, SAFE: 1, RETRACTED: 2, FINALIZED: 3 }
const RANK_ORDER = `ARRAY[${Object.entries(FINALITY_RANK)
  .sort(([, a], [, b]) => a - b)
  .map(([finality]) => `'${finality}'`)
  .join(',')}]`

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
 * `e`, with CHAIN_EVENT_ROWS's columns. Exported for bench/sql-rows.ts, which runs it with
 * other forms of the same rows.
 */
export const upsertChainEventsSql = (source: string) =>
  `INSERT INTO chain_events AS current (event_id, topic, kind, chain, block_number, block_hash, tx_hash, log_index,
       emitter, finality, observed_at, finality_changed_at, kafka_partition, kafka_offset)
     SELECT e.event_id, e.topic, e.kind, e.chain, e.block_number, e.block_hash, e.tx_hash, e.log_index, e.emitter,
       e.finality, to_timestamp(e.observed_ms / 1000.0), now(), e.kafka_partition, e.kafka_offset
     FROM ${source}
     ON CONFLICT (event_id) DO UPDATE SET
       finality = EXCLUDED.finality,
       finality_changed_at = now(),
       kafka_partition = EXCLUDED.kafka_partition,
       kafka_offset = EXCLUDED.kafka_offset
     WHERE array_position(${RANK_ORDER}, EXCLUDED.finality) > array_position(${RANK_ORDER}, current.finality)`

const UPSERT_CHAIN_EVENTS = upsertChainEventsSql(`${CHAIN_EVENT_ROWS.from('$1')} AS e`)

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

/** Each finality a fact reaches is applied once; redeliveries of it are recognised. */
export const ledgerMessageId = (message: ConsumedMessage<ChainEventValue>) =>
  `${message.value.envelope.eventId}:${message.value.envelope.finality}`

/**
 * Applies a chunk of chain events to the ledger in two statements, whatever the chunk
 * size. Within a chunk one fact may appear several times (PENDING then FINALIZED): only its
 * furthest state is written, since one INSERT cannot touch a row twice.
 */
export async function projectChainEvents(
  messages: readonly ConsumedMessage<ChainEventValue>[],
  client: PoolClient,
) {
  const latest = new Map<string, ConsumedMessage<ChainEventValue>>()
  const stats = new Map<
    string,
    { chain: string; topic: string; finality: string; count: number; lastBlock: number; lastObserved: number }
  >()
  for (const message of messages) {
    const { envelope } = message.value
    const seen = latest.get(envelope.eventId)
    if (!seen || FINALITY_RANK[envelope.finality] > FINALITY_RANK[seen.value.envelope.finality])
      latest.set(envelope.eventId, message)
    const statKey = `${envelope.chain}\u0000${message.topic}\u0000${envelope.finality}`
    const stat = stats.get(statKey) ?? {
      chain: envelope.chain,
      topic: message.topic,
      finality: envelope.finality,
      count: 0,
      lastBlock: envelope.blockNumber,
      lastObserved: envelope.observedAt,
    }
    stat.count++
    stat.lastBlock = Math.max(stat.lastBlock, envelope.blockNumber)
    stat.lastObserved = Math.max(stat.lastObserved, envelope.observedAt)
    stats.set(statKey, stat)
  }

  const rows = [...latest.values()].map(chainEventRow)
  await client.query(UPSERT_CHAIN_EVENTS, [CHAIN_EVENT_ROWS.param(rows)])

  const statRows = [...stats.values()]
  // Partitions are applied concurrently and share these counter rows: ORDER BY takes the
  // row locks in one global order, so two transactions cannot deadlock on each other.
  await client.query(
    `INSERT INTO chain_event_stats AS current (chain, topic, finality, events_total, last_block_number, last_observed_at)
     SELECT s.chain, s.topic, s.finality, s.count, s.last_block, to_timestamp(s.last_observed / 1000.0)
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[])
       AS s(chain, topic, finality, count, last_block, last_observed)
     ORDER BY s.chain, s.topic, s.finality
     ON CONFLICT (chain, topic, finality) DO UPDATE SET
       events_total = current.events_total + EXCLUDED.events_total,
       last_block_number = GREATEST(current.last_block_number, EXCLUDED.last_block_number),
       last_observed_at = GREATEST(current.last_observed_at, EXCLUDED.last_observed_at)`,
    [
      statRows.map((s) => s.chain),
      statRows.map((s) => s.topic),
      statRows.map((s) => s.finality),
      statRows.map((s) => s.count),
      statRows.map((s) => s.lastBlock),
      statRows.map((s) => s.lastObserved),
    ],
  )
}
