import { recoverAuditFromTopic } from '../../consumers/audit/recover.ts'
import { replayAudit } from '../../consumers/audit/replay.ts'
import type { Bus } from '../../core/bus/connect.ts'
import { groupId } from '../../core/bus/topics.ts'
import type { Config } from '../../core/config/env.ts'
import type { Pool } from '../../core/db/pool.ts'

/**
 * Read models rebuilt from Kafka, the source of truth (`veridis rebuild <model>`, and the replay
 * step of a restore). The consumer that keeps a model must be stopped meanwhile: Kafka refuses
 * to move a group's offsets while it has members. When it starts again it replays its topics
 * from the beginning; its exactly-once bookkeeping (bus_processed_messages) decides what is
 * applied, so the model ends up as if every retained message had been applied once.
 */
export interface ReadModel {
  readonly consumer: string
  readonly description: string
  readonly topics: (bus: Bus) => string[]
  /** Brings the model and the consumer's bookkeeping to the point its replay starts from. */
  readonly prepare: (bus: Bus, pool: Pool, group: string) => Promise<Record<string, number | boolean>>
}

const PROJECTOR_TABLES = [
  'read_commands',
  'read_proof_results',
  'read_nullifier_propagations',
  'read_alerts',
  'read_audit_references',
] as const

export const READ_MODELS: Record<string, ReadModel> = {
  projector: {
    consumer: 'projector',
    description: `the gateway's read models (${PROJECTOR_TABLES.join(', ')}), a pure projection of their topics`,
    topics: (bus) => [
      bus.topics.command.name,
      bus.topics.proof.name,
      bus.topics.propagation.name,
      bus.topics.alert.name,
      bus.topics.audit.name,
    ],
    // Emptied with the group's bookkeeping, then projected again from the first retained record.
    async prepare(bus, pool, group) {
      const topics = READ_MODELS.projector?.topics(bus) ?? []
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        let rows = 0
        for (const table of PROJECTOR_TABLES) {
          const deleted = await client.query(`DELETE FROM ${table} WHERE source_topic = ANY($1::text[])`, [
            topics,
          ])
          rows += deleted.rowCount ?? 0
        }
        const bookkeeping = await client.query(
          'DELETE FROM bus_processed_messages WHERE consumer_group = $1',
          [group],
        )
        await client.query('COMMIT')
        return { rowsDeleted: rows, bookkeepingDeleted: bookkeeping.rowCount ?? 0 }
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    },
  },
  audit: {
    consumer: 'audit',
    description:
      'the audit service: chain heads, outbox and exactly-once bookkeeping brought up to veridis.audit.v1, then its projection rebuilt and verified',
    topics: (bus) => [bus.topics.command.name, bus.topics.auditIntake.name, bus.topics.attestation.name],
    async prepare(bus, pool, group) {
      const recovered = await recoverAuditFromTopic(bus, pool, group)
      const replay = await replayAudit(bus, pool)
      if (!replay.ok) {
        throw new Error(
          `the audit chain does not verify after recovery: ${replay.problems.map((problem) => problem.message).join('; ')}`,
        )
      }
      return { ...recovered, projected: replay.records, chainVerified: replay.ok }
    },
  },
}

/** Moves the consumer's group to the first retained offset of each of its topics. */
async function rewindGroup(bus: Bus, group: string, topics: readonly string[]) {
  const admin = bus.kafka.admin()
  await admin.connect()
  try {
    const described = await admin.describeGroups([group])
    const members = described.groups[0]?.members.length ?? 0
    if (members > 0) {
      throw new Error(
        `consumer group ${group} has ${members} running member(s): stop its consumer before rebuilding (Kafka refuses to move the offsets of an active group)`,
      )
    }
    for (const topic of topics) await admin.resetOffsets({ groupId: group, topic, earliest: true })
  } finally {
    await admin.disconnect()
  }
}

export async function rebuildReadModel(
  config: Config,
  bus: Bus,
  pool: Pool,
  name: string,
): Promise<{ model: string; group: string } & Record<string, unknown>> {
  const model = READ_MODELS[name]
  if (!model) throw new Error(`no read model '${name}'; known: ${Object.keys(READ_MODELS).join(', ')}`)
  const group = groupId(config.namespace, model.consumer)
  // Checked first: nothing is deleted while the consumer could still write.
  await rewindGroup(bus, group, [])
  const prepared = await model.prepare(bus, pool, group)
  await rewindGroup(bus, group, model.topics(bus))
  return { model: name, group, ...prepared }
}
