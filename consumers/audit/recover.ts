import type { Bus } from '../../core/bus/connect.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import type { Pool } from '../../core/db/pool.ts'
import { readTopicToEnd } from './reader.ts'

/**
 * After Postgres was restored from a backup older than the audit topic: the topic is the
 * truth. Records published after the backup are on the topic but the restored chain state
 * does not know them, so the audit service would chain the next fact at a sequence that is
 * already taken (a fork, which the relay refuses) and, replaying its inputs, audit again the
 * facts those records stand for. This brings the chain state and the exactly-once
 * bookkeeping up to the topic, in one transaction:
 *
 * - each chain's head moves to its last record on the topic (sequence + 1, that record's hash);
 * - outbox rows at sequences already on the topic are dropped (published before the loss);
 * - every record's source message is marked processed for the audit consumer's group, under
 *   the id the consumer gives it (`<topic>#<eventId>`: the command id, fact id or chain event id).
 *
 * The audit projection is then rebuilt by `replayAudit`. What cannot come back from the topic
 * is what was never on it: subject data and keys written after the backup (kept off the bus on
 * purpose, docs/operations.md).
 */
export interface AuditRecovery {
  readonly records: number
  readonly chainsAdvanced: number
  readonly outboxDropped: number
  readonly markedProcessed: number
}

/** The consumer's message id of the input an audit record stands for; undefined for the service's own records. */
export function sourceMessageId(
  topics: { command: string; intake: string; attestation: string },
  auditId: string,
): string | undefined {
  const [kind, ...rest] = auditId.split(':')
  if (kind === 'command' && rest[0]) return `${topics.command}#${rest[0]}`
  if (kind === 'intake' && rest.length > 0) return `${topics.intake}#${rest.join(':')}`
  // chain:<eventId>:<finality>
  if (kind === 'chain' && rest.length > 1) return `${topics.attestation}#${rest.slice(0, -1).join(':')}`
  return undefined
}

export async function recoverAuditFromTopic(bus: Bus, pool: Pool, group: string): Promise<AuditRecovery> {
  const topic = bus.topics.audit.name
  await bus.codec.resolveIds([topic])
  const heads = new Map<string, { nextSequence: number; headHash: string }>()
  const processed = new Set<string>()
  const inputs = {
    command: bus.topics.command.name,
    intake: bus.topics.auditIntake.name,
    attestation: bus.topics.attestation.name,
  }
  let records = 0
  await readTopicToEnd(bus.kafka, topic, {}, async (_partition, message) => {
    const record = (await bus.codec.decodeValue(topic, message.value)) as AuditEvent
    records++
    const head = heads.get(record.chainId)
    if (!head || record.sequence + 1 > head.nextSequence)
      heads.set(record.chainId, { nextSequence: record.sequence + 1, headHash: record.recordHash })
    const id = sourceMessageId(inputs, record.auditId)
    if (id) processed.add(id)
  })

  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    let chainsAdvanced = 0
    let outboxDropped = 0
    for (const [chainId, head] of heads) {
      const advanced = await client.query(
        `INSERT INTO audit_chain_heads (scope, chain_id, next_sequence, head_hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT (scope, chain_id) DO UPDATE SET next_sequence = EXCLUDED.next_sequence, head_hash = EXCLUDED.head_hash
         WHERE audit_chain_heads.next_sequence < EXCLUDED.next_sequence`,
        [topic, chainId, head.nextSequence, head.headHash],
      )
      chainsAdvanced += advanced.rowCount ?? 0
      const dropped = await client.query(
        'DELETE FROM audit_outbox WHERE scope = $1 AND chain_id = $2 AND sequence < $3',
        [topic, chainId, head.nextSequence],
      )
      outboxDropped += dropped.rowCount ?? 0
    }
    const marked = await client.query(
      `INSERT INTO bus_processed_messages (consumer_group, message_id)
       SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING`,
      [group, [...processed]],
    )
    await client.query('COMMIT')
    return { records, chainsAdvanced, outboxDropped, markedProcessed: marked.rowCount ?? 0 }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
