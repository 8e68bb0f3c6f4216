import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import { FINALITY_RANK, finalityRankSql } from '../../core/bus/finality.ts'
import { nullifierKey } from '../../core/bus/topics.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import { NonRetryableError } from '../../core/errors.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import type { NullifierEvent } from '../../schemas/generated/veridis.chain.nullifier.v1.ts'
import { type Decision, decide, doubleUseAlertId, type Finality, type Use } from './decide.ts'
import { uniquenessGuarantee } from './guarantees.ts'

/**
 * The transactional half of the consumer: records the uses of a chunk, recomputes the
 * projection of every (scope, nullifier) they touch, and writes what must follow — alerts
 * to publish and propagations to carry out — in the same transaction, so the runner's
 * exactly-once bookkeeping covers them too. Nothing here talks to a chain or to Kafka.
 */

const FIELD_ELEMENT = /^[0-9]{1,78}$/

/** Each finality a use reaches is applied once; redeliveries are recognised. */
export const nullifierMessageId = (message: ConsumedMessage<NullifierEvent>) =>
  `${message.value.envelope.eventId}:${message.value.envelope.finality}`

function checkedElement(value: string, what: string, message: ConsumedMessage<NullifierEvent>): string {
  if (!FIELD_ELEMENT.test(value)) {
    throw new NonRetryableError(
      `nullifier event ${message.value.envelope.eventId} has a ${what} that is not a decimal field element`,
    )
  }
  return BigInt(value).toString()
}

interface UseRow {
  event_id: string
  scope: string
  nullifier: string
  chain: string
  source: 'PROOF' | 'RELAYER'
  origin_chain: string | null
  merkle_tree_root: string | null
  block_number: number
  tx_hash: string
  finality: Finality
  observed_ms: number
  arrival: number
}

const USE_ROWS = jsonRows({
  event_id: 'text',
  scope: 'text',
  nullifier: 'text',
  chain: 'text',
  source: 'text',
  origin_chain: 'text',
  merkle_tree_root: 'text',
  block_number: 'bigint',
  tx_hash: 'text',
  finality: 'text',
  observed_ms: 'float8',
  arrival: 'bigint',
})

export async function recordUses(
  messages: readonly ConsumedMessage<NullifierEvent>[],
  client: PoolClient,
  targets: readonly string[],
): Promise<void> {
  // One row per fact: its furthest finality in the chunk, its first offset as arrival.
  const facts = new Map<string, UseRow>()
  for (const message of messages) {
    const { value } = message
    const { envelope } = value
    const seen = facts.get(envelope.eventId)
    if (seen) {
      if (FINALITY_RANK[envelope.finality] > FINALITY_RANK[seen.finality]) seen.finality = envelope.finality
      continue
    }
    facts.set(envelope.eventId, {
      event_id: envelope.eventId,
      scope: checkedElement(value.scope, 'scope', message),
      nullifier: checkedElement(value.nullifier, 'nullifier', message),
      chain: envelope.chain,
      source: value.source,
      origin_chain: value.originChain,
      merkle_tree_root: value.merkleTreeRoot,
      block_number: envelope.blockNumber,
      tx_hash: envelope.txHash,
      finality: envelope.finality,
      observed_ms: envelope.observedAt,
      arrival: Number(message.offset),
    })
  }
  const rows = [...facts.values()]
  if (rows.length === 0) return
  await client.query(
    `INSERT INTO nullifier_uses AS current (event_id, scope, nullifier, chain, source, origin_chain, merkle_tree_root,
       block_number, tx_hash, finality, observed_at, arrival)
     SELECT u.event_id, u.scope, u.nullifier, u.chain, u.source, u.origin_chain, u.merkle_tree_root, u.block_number,
       u.tx_hash, u.finality, to_timestamp(u.observed_ms / 1000.0), u.arrival
     FROM ${USE_ROWS.from('$1')} AS u
     ON CONFLICT (event_id) DO UPDATE SET finality = EXCLUDED.finality, finality_changed_at = now()
     WHERE ${finalityRankSql('EXCLUDED.finality')} > ${finalityRankSql('current.finality')}`,
    [USE_ROWS.param(rows)],
  )

  // Facts this chunk retracted (each finality of a fact reaches the effect once).
  const retractedNow = new Set(rows.filter((row) => row.finality === 'RETRACTED').map((row) => row.event_id))
  const keys = [...new Map(rows.map((row) => [nullifierKey(row), row])).values()]
  const { rows: allUses } = await client.query<UseRow>(
    `SELECT event_id, scope, nullifier, chain, source, origin_chain, merkle_tree_root, block_number::float8 AS block_number,
       tx_hash, finality, (extract(epoch FROM observed_at) * 1000)::float8 AS observed_ms, arrival::float8 AS arrival
     FROM nullifier_uses
     WHERE (scope, nullifier) IN (SELECT * FROM unnest($1::text[], $2::text[]))
     ORDER BY arrival`,
    [keys.map((row) => row.scope), keys.map((row) => row.nullifier)],
  )
  const byKey = new Map<string, UseRow[]>()
  for (const use of allUses) {
    const key = nullifierKey(use)
    byKey.set(key, [...(byKey.get(key) ?? []), use])
  }

  for (const uses of byKey.values()) {
    const [scope, nullifier] = [uses[0]!.scope, uses[0]!.nullifier]
    const rowOf = new Map(uses.map((use) => [use.event_id, use]))
    const decision = decide(uses.map(toUse))
    await writeStatus(client, scope, nullifier, decision)
    await writeAlerts(client, scope, nullifier, decision)
    if (decision.retracted.length > 0) {
      await client.query(
        `UPDATE nullifier_propagations SET source_retracted = true
         WHERE source_event_id = ANY($1) AND NOT source_retracted`,
        [decision.retracted.map((use) => use.eventId)],
      )
    }
    const first = decision.first && rowOf.get(decision.first.eventId)
    if (!first) continue
    await reopenLostEvidence(client, first.event_id, uses, retractedNow)
    const to = targets.filter((chain) => chain !== first.chain)
    await client.query(
      `INSERT INTO nullifier_propagations (source_event_id, target_chain, scope, nullifier, source_chain,
         merkle_tree_root, source_observed_at)
       SELECT $1, target, $2, $3, $4, $5, to_timestamp($6 / 1000.0) FROM unnest($7::text[]) AS target
       ON CONFLICT (source_event_id, target_chain) DO UPDATE SET source_retracted = false
       WHERE nullifier_propagations.source_retracted AND nullifier_propagations.state <> 'DONE'`,
      [first.event_id, scope, nullifier, first.chain, first.merkle_tree_root, first.observed_ms, to],
    )
  }
}

/**
 * A finished propagation rests on the target chain holding the nullifier: our own relayed
 * copy (PROPAGATED) or a use already there (ALREADY_PRESENT). When a reorg on the target
 * takes that away, the propagation is opened again: a relayed copy goes back to SENT, so the
 * same signed transaction is followed (re-included, re-broadcast, or found dropped and
 * signed afresh); an ALREADY_PRESENT goes back to PLANNED and checks the chain again.
 */
async function reopenLostEvidence(
  client: PoolClient,
  firstEventId: string,
  uses: readonly UseRow[],
  retractedNow: ReadonlySet<string>,
) {
  const live = new Set(uses.filter((use) => use.finality !== 'RETRACTED').map((use) => use.chain))
  const lost = [
    ...new Set(
      uses.filter((use) => retractedNow.has(use.event_id) && !live.has(use.chain)).map((use) => use.chain),
    ),
  ]
  if (lost.length === 0) return
  await client.query(
    `UPDATE nullifier_propagations SET
       state = CASE WHEN outcome = 'PROPAGATED' THEN 'SENT' ELSE 'PLANNED' END,
       tx_hash = CASE WHEN outcome = 'PROPAGATED' THEN tx_hash END,
       nonce = CASE WHEN outcome = 'PROPAGATED' THEN nonce END,
       signed_tx = CASE WHEN outcome = 'PROPAGATED' THEN signed_tx END,
       outcome = NULL, reason = NULL, latency_ms = NULL, attempts = 0, completed_at = NULL, published_at = NULL
     WHERE source_event_id = $1 AND target_chain = ANY($2) AND state = 'DONE'
       AND outcome IN ('PROPAGATED', 'ALREADY_PRESENT')`,
    [firstEventId, lost],
  )
}

const toUse = (row: UseRow): Use => ({
  eventId: row.event_id,
  chain: row.chain,
  source: row.source,
  finality: row.finality,
  txHash: row.tx_hash,
  blockNumber: Number(row.block_number),
  arrival: Number(row.arrival),
})

async function writeStatus(client: PoolClient, scope: string, nullifier: string, decision: Decision) {
  await client.query(
    `INSERT INTO nullifier_status (scope, nullifier, status, first_event_id, first_chain)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (scope, nullifier) DO UPDATE SET status = EXCLUDED.status, first_event_id = EXCLUDED.first_event_id,
       first_chain = EXCLUDED.first_chain, updated_at = now()
     WHERE (nullifier_status.status, nullifier_status.first_event_id, nullifier_status.first_chain)
       IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.first_event_id, EXCLUDED.first_chain)`,
    [scope, nullifier, decision.status, decision.first?.eventId ?? null, decision.first?.chain ?? null],
  )
}

async function writeAlerts(client: PoolClient, scope: string, nullifier: string, decision: Decision) {
  for (const [first, second] of decision.doubleUses) {
    const alert: Alert = {
      alertId: doubleUseAlertId(scope, nullifier, first, second),
      kind: 'DOUBLE_NULLIFIER_USE',
      // The protocol's core promise (one use per nullifier, across chains) was broken.
      severity: 'CRITICAL',
      chain: second.chain,
      summary: `nullifier ${nullifier} of scope ${scope} used on ${first.chain} (tx ${first.txHash}) and again on ${second.chain} (tx ${second.txHash}); ${first.chain}: ${uniquenessGuarantee(first.chain)}; ${second.chain}: ${uniquenessGuarantee(second.chain)}`,
      evidence: [first, second].map((use, index) => ({
        eventId: use.eventId,
        chain: use.chain,
        txHash: use.txHash,
        blockNumber: use.blockNumber,
        role: index === 0 ? 'first use' : 'second use',
      })),
      details: {
        scope,
        nullifier,
        firstChain: first.chain,
        firstEventId: first.eventId,
        secondChain: second.chain,
        secondEventId: second.eventId,
        firstChainGuarantee: uniquenessGuarantee(first.chain),
        secondChainGuarantee: uniquenessGuarantee(second.chain),
      },
      detectedAt: Date.now(),
      detection: 'double-nullifier-use',
      status: 'RAISED',
      revision: 0,
      occurrences: 1,
      chains: [...new Set([first.chain, second.chain])],
    }
    await client.query(
      `INSERT INTO nullifier_alerts (alert_id, scope, nullifier, first_event_id, second_event_id, record)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [alert.alertId, scope, nullifier, first.eventId, second.eventId, JSON.stringify(alert)],
    )
  }
}
