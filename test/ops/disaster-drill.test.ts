import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { readTopicToEnd } from '../../consumers/audit/reader.ts'
import { replayAudit } from '../../consumers/audit/replay.ts'
import { createCommandSealerFor } from '../../consumers/audit/vault.ts'
import { keySubject, valueSubject } from '../../core/bus/codec.ts'
import { createSchemaRegistryClient } from '../../core/bus/schema-registry.ts'
import { groupId } from '../../core/bus/topics.ts'
import type { AuditEvent, Command } from '../../core/bus/types.ts'
import { type Config, loadConfig } from '../../core/config/env.ts'
import type { CommandSealer } from '../../core/crypto/command-seal.ts'
import { migrate } from '../../core/db/migrate.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { ensureRoleAndDatabase, postgresService } from '../../infra/stack/postgres.ts'
import type { StackContext } from '../../infra/stack/service.ts'
import { stackContext } from '../../infra/stack/stack.ts'
import { intakeFact, proveCommand, publishCommands, publishFacts, registerCommand } from '../audit/support.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import {
  collectOutput,
  eventually,
  freePort,
  openTestBus,
  randomNamespace,
  type TestBus,
  testEnv,
  testProducer,
} from '../support/harness.ts'

/**
 * The disaster drill (issue 18): traffic through the real projector and audit consumers, an
 * encrypted backup by `veridis backup`, more traffic, then the PostgreSQL data directory is
 * destroyed under the running consumers; a new cluster, `veridis restore` (database, then the
 * read models replayed from Kafka), the consumers again — and every read model is what it was
 * at the end of the traffic, by content hash.
 *
 * The drill's PostgreSQL is its own instance (the stack's own start-up code, a data directory
 * in a temporary VERIDIS_HOME, its own loopback port): the shared stack's database is never
 * touched. Kafka and the registry are the shared ones, in a namespace of the drill's own.
 */
const namespace = randomNamespace('drill')
const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-drill-'))
// The server runs as the `postgres` user under root: it must be able to reach its data directory.
chmodSync(home, 0o755)
const password = randomBytes(12).toString('hex')
const passphrase = randomBytes(18).toString('base64url')
const backupFile = path.join(home, 'drill.backup')

let env: NodeJS.ProcessEnv
let config: Config
let context: StackContext
let testBus: TestBus
let pool: Pool
let sealer: CommandSealer
const consumers: ConsumerProcess[] = []

async function startPostgres() {
  await postgresService.install(context)
  await postgresService.start(context)
  await eventually(
    async () => ((await postgresService.isHealthy(context)) ? true : undefined),
    120_000,
    'drill postgres',
  )
  await ensureRoleAndDatabase(context, { user: 'veridis', password, database: 'veridis' })
}

async function startConsumers() {
  for (const name of ['projector', 'audit'])
    consumers.push(await startConsumerProcess({ name, namespace, env }))
}

async function killConsumers() {
  for (const consumer of consumers.splice(0)) await consumer.kill('SIGKILL')
}

/** `bin/veridis <args>` in the drill's environment; everything it prints is kept for the secrecy checks. */
function cli(args: readonly string[], extra: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child: ChildProcess = spawn(path.join(PROJECT_ROOT, 'bin', 'veridis'), [...args], {
      env: { ...testEnv(namespace), ...env, VERIDIS_BACKUP_PASSPHRASE: passphrase, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const output = collectOutput(child)
    child.once('exit', (code) => resolve({ code, output: output() }))
  })
}

/** Every secret the drill's processes know: none may appear in what backup or restore print. */
function secrets(): string[] {
  const dir = path.join(home, 'secrets')
  const files = ['postgres-superuser', 'audit-hmac-key', 'audit-master-key']
    .map((name) => {
      try {
        return readFileSync(path.join(dir, name), 'utf8').trim()
      } catch {
        return ''
      }
    })
    .filter((value) => value.length > 0)
  return [password, passphrase, ...files]
}

const published = { commands: [] as Command[], facts: [] as string[] }

async function traffic(round: number, withSubjects: boolean) {
  const producer = await testProducer(testBus, `drill-${round}`)
  try {
    const commands = Array.from({ length: 25 }, (_, n) => proveCommand(round * 100 + n))
    // Registrations as the gateway writes them: the subject sealed, so the audit service keeps
    // its data under a per-subject key (state that lives in PostgreSQL only).
    if (withSubjects)
      commands.push(await sealer.seal(registerCommand(`subject-${round}@example.com`, `${round}`)))
    const facts = Array.from({ length: 15 }, (_, n) => intakeFact(round * 100 + n))
    await publishCommands(testBus, producer, commands)
    await publishFacts(testBus, producer, facts)
    published.commands.push(...commands)
    published.facts.push(...facts.map((fact) => fact.factId))
  } finally {
    await producer.disconnect()
  }
}

/** Waits until every published command is projected and audited, and the audit outbox is empty. */
async function settled(what: string) {
  const ids = published.commands.map((command) => command.commandId)
  const auditIds = [...ids.map((id) => `command:${id}`), ...published.facts.map((id) => `intake:${id}`)]
  await eventually(
    async () => {
      const projected = await pool.query(
        'SELECT count(*)::int AS n FROM read_commands WHERE command_id = ANY($1)',
        [ids],
      )
      const audited = await pool.query(
        'SELECT count(*)::int AS n FROM audit_records WHERE scope = $1 AND audit_id = ANY($2)',
        [testBus.bus.topics.audit.name, auditIds],
      )
      const outbox = await pool.query('SELECT count(*)::int AS n FROM audit_outbox WHERE scope = $1', [
        testBus.bus.topics.audit.name,
      ])
      // The projector reads the audit topic too: every record referenced (CI, 2026-12-03, took
      // the snapshot with 42 of 82 references projected).
      const referenced = await pool.query(
        'SELECT count(*)::int AS n FROM read_audit_references WHERE source_topic = $1',
        [testBus.bus.topics.audit.name],
      )
      const records = await pool.query('SELECT count(*)::int AS n FROM audit_records WHERE scope = $1', [
        testBus.bus.topics.audit.name,
      ])
      return projected.rows[0].n === ids.length &&
        audited.rows[0].n === auditIds.length &&
        outbox.rows[0].n === 0 &&
        referenced.rows[0].n === records.rows[0].n
        ? true
        : undefined
    },
    300_000,
    what,
  )
}

/**
 * Content hash of every read model of the namespace: rows as JSON, sorted, hashed. Left out
 * are only the columns that say when a row was written (projected_at, created_at, ...) and
 * surrogate serials: a replay writes the same facts at another time.
 */
async function readModelHashes(): Promise<Record<string, string>> {
  const topics = testBus.bus.allTopics.map((topic) => topic.name)
  const scope = testBus.bus.topics.audit.name
  const groups = ['projector', 'audit'].map((name) => groupId(namespace, name))
  const queries: Record<string, [string, unknown[]]> = {
    read_commands: ['SELECT * FROM read_commands WHERE source_topic = ANY($1)', [topics]],
    read_proof_results: ['SELECT * FROM read_proof_results WHERE source_topic = ANY($1)', [topics]],
    read_nullifier_propagations: [
      'SELECT * FROM read_nullifier_propagations WHERE source_topic = ANY($1)',
      [topics],
    ],
    read_alerts: ['SELECT * FROM read_alerts WHERE source_topic = ANY($1)', [topics]],
    read_audit_references: ['SELECT * FROM read_audit_references WHERE source_topic = ANY($1)', [topics]],
    audit_records: ['SELECT * FROM audit_records WHERE scope = $1', [scope]],
    audit_chain_heads: ['SELECT * FROM audit_chain_heads WHERE scope = $1', [scope]],
    audit_subject_keys: ['SELECT * FROM audit_subject_keys WHERE scope = $1', [scope]],
    audit_subject_data: ['SELECT * FROM audit_subject_data WHERE scope = $1', [scope]],
    bus_processed_messages: ['SELECT * FROM bus_processed_messages WHERE consumer_group = ANY($1)', [groups]],
  }
  const volatile = new Set(['projected_at', 'created_at', 'processed_at', 'stored_at', 'id'])
  const hashes: Record<string, string> = {}
  for (const [table, [sql, params]] of Object.entries(queries)) {
    const { rows } = await pool.query(sql, params)
    const lines = rows
      .map((row: Record<string, unknown>) =>
        JSON.stringify(
          Object.entries(row).filter(([column]) => !volatile.has(column)),
          (_key, value) => (Buffer.isBuffer(value) ? value.toString('base64') : value),
        ),
      )
      .sort()
    hashes[table] = `${rows.length}:${createHash('sha256').update(lines.join('\n')).digest('hex')}`
  }
  return hashes
}

/** Every message of some topics, with where it sits and its eventId header. */
async function messagesOf(topics: readonly string[]) {
  const all: { topic: string; partition: number; offset: string; eventId: string | undefined }[] = []
  for (const topic of topics) {
    await readTopicToEnd(testBus.bus.kafka, topic, {}, (partition, message) => {
      all.push({ topic, partition, offset: message.offset, eventId: message.headers?.eventId?.toString() })
    })
  }
  return all
}

beforeAll(async () => {
  const port = await freePort()
  env = {
    VERIDIS_HOME: home,
    VERIDIS_DATABASE_URL: `postgres://veridis:${password}@127.0.0.1:${port}/veridis`,
  }
  config = loadConfig({ ...testEnv(namespace), ...env })
  context = stackContext(config, () => undefined)
  await startPostgres()
  testBus = await openTestBus(namespace, env)
  pool = testBus.pool
  await migrate(pool)
  sealer = await createCommandSealerFor(config, pool, testBus.bus.topics.audit.name)
  await startConsumers()
}, 600_000)

afterAll(async () => {
  await killConsumers()
  // The drill's database goes with its directory; its topics and subjects leave the shared
  // Kafka and registry (testBus.close would stop at its first query: its pool died with the disaster).
  if (testBus) {
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    await admin
      .deleteTopics({ topics: testBus.bus.allTopics.map((topic) => topic.name) })
      .catch(() => undefined)
    await admin
      .deleteGroups(['projector', 'audit'].map((name) => groupId(namespace, name)))
      .catch(() => undefined)
    await admin.disconnect()
    const registry = createSchemaRegistryClient(config.schemaRegistry)
    for (const topic of testBus.bus.allTopics) {
      for (const subject of [keySubject(topic.name), valueSubject(topic.name)])
        await registry.deleteSubject(subject).catch(() => undefined)
    }
  }
  await pool?.end().catch(() => undefined)
  if (context) await postgresService.stop(context)
  rmSync(home, { recursive: true, force: true })
}, 120_000)

describe('disaster drill', () => {
  test('behavior: back up, keep running, lose the database, restore and replay: every read model as it was', async () => {
    await traffic(1, true)
    await settled('the first traffic projected and audited')

    // The backup, while the consumers keep running.
    const backup = await cli(['backup', backupFile])
    expect(backup.code, backup.output).toBe(0)
    for (const secret of secrets()) expect(backup.output).not.toContain(secret)
    expect(statSync(backupFile).mode & 0o777).toBe(0o600)
    // Encrypted at rest: nothing of the database, the commands or the secrets readable in it.
    const sealed = readFileSync(backupFile)
    for (const plain of ['read_commands', published.commands[0]?.commandId ?? '-', ...secrets()])
      expect(sealed.includes(Buffer.from(plain))).toBe(false)

    // A rebuild is refused while the model's consumer runs, before anything is deleted.
    const refused = await cli(['rebuild', 'projector'])
    expect(refused.code).not.toBe(0)
    expect(refused.output).toMatch(/running member\(s\): stop its consumer/)

    // More traffic after the backup: it is in Kafka only once the database is lost.
    await traffic(2, false)
    await settled('the second traffic projected and audited')
    const before = await readModelHashes()
    expect(Number(before.read_commands?.split(':')[0])).toBe(published.commands.length)

    // The disaster: the server killed, its data directory gone, the consumers still running.
    const pid = postgresService.pid(context)
    expect(pid).toBeDefined()
    process.kill(pid as number, 'SIGKILL')
    rmSync(path.join(home, 'data', 'postgres'), { recursive: true, force: true })
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    await killConsumers()
    await pool.end().catch(() => undefined)

    // Recovery: a new cluster (the stack's own code), then `veridis restore`.
    await startPostgres()
    const wrong = await cli(['restore', backupFile], { VERIDIS_BACKUP_PASSPHRASE: `${passphrase}x` })
    expect(wrong.code).not.toBe(0)
    expect(wrong.output).toMatch(/wrong passphrase/)
    const restore = await cli(['restore', backupFile])
    expect(restore.code, restore.output).toBe(0)
    for (const secret of secrets()) expect(restore.output).not.toContain(secret)
    const report = JSON.parse(restore.output.slice(restore.output.indexOf('{'))) as {
      restored: { databaseRestored: boolean }
      rebuilt: { model: string; chainVerified?: boolean; chainsAdvanced?: number; markedProcessed?: number }[]
    }
    expect(report.restored.databaseRestored).toBe(true)
    expect(report.rebuilt.map((entry) => entry.model)).toEqual(['projector', 'audit'])
    const audit = report.rebuilt.find((entry) => entry.model === 'audit')
    expect(audit?.chainVerified).toBe(true)
    // The audit topic was ahead of the restored chain state (the second traffic): recovered from it.
    expect(audit?.chainsAdvanced).toBeGreaterThan(0)
    expect(audit?.markedProcessed).toBeGreaterThan(0)

    pool = createPool(config.database, testBus.common.logger, 'veridis-drill')
    await startConsumers()
    await settled('the replay after the restore')
    // Both consumers are caught up: read once more after a pause, nothing may still move.
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    const after = await readModelHashes()
    expect(after).toEqual(before)

    // The audit chain verifies, end to end, against the restored chain state.
    const replay = await replayAudit(testBus.bus, pool, { rebuild: false })
    expect(replay.problems).toEqual([])
    expect(replay.ok).toBe(true)

    // No command lost or doubled: each one projected once and audited once on the topic.
    const { rows } = await pool.query<{ command_id: string }>(
      'SELECT command_id FROM read_commands WHERE source_topic = $1',
      [testBus.bus.topics.command.name],
    )
    expect(rows.map((row) => row.command_id).sort()).toEqual(
      published.commands.map((command) => command.commandId).sort(),
    )
    const audited = new Map<string, number>()
    await testBus.bus.codec.resolveIds([testBus.bus.topics.audit.name])
    await readTopicToEnd(
      testBus.bus.kafka,
      testBus.bus.topics.audit.name,
      {},
      async (_partition, message) => {
        const record = (await testBus.bus.codec.decodeValue(
          testBus.bus.topics.audit.name,
          message.value,
        )) as AuditEvent
        audited.set(record.auditId, (audited.get(record.auditId) ?? 0) + 1)
      },
    )
    for (const command of published.commands) expect(audited.get(`command:${command.commandId}`)).toBe(1)
    expect([...audited.values()].every((count) => count === 1)).toBe(true)

    // The exactly-once bookkeeping agrees with the topics, message for message.
    const bookkeeping = async (name: string) =>
      (
        await pool.query<{ message_id: string }>(
          'SELECT message_id FROM bus_processed_messages WHERE consumer_group = $1',
          [groupId(namespace, name)],
        )
      ).rows
        .map((row) => row.message_id)
        .sort()
    const topics = testBus.bus.topics
    const projected = await messagesOf([
      topics.command.name,
      topics.proof.name,
      topics.propagation.name,
      topics.alert.name,
      topics.audit.name,
    ])
    expect(await bookkeeping('projector')).toEqual(
      projected.map((message) => `${message.topic}:${message.partition}:${message.offset}`).sort(),
    )
    const auditInputs = await messagesOf([
      topics.command.name,
      topics.auditIntake.name,
      topics.attestation.name,
    ])
    expect(await bookkeeping('audit')).toEqual(
      [...new Set(auditInputs.map((message) => `${message.topic}#${message.eventId}`))].sort(),
    )
  }, 1_500_000)
})
