import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import type { KafkaMessage } from 'kafkajs'
import { readTopicToEnd } from '../../consumers/audit/reader.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import type { AuditFact, Command } from '../../core/bus/types.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { eventually, type TestBus, testEnv } from '../support/harness.ts'

/** A secret value that must never reach the audit trail. */
export const PROOF_SECRET = '987654321987654321987654321'

export function proveCommand(n: number): Command {
  const commandId = randomUUID()
  return {
    commandId,
    idempotencyKey: `prove-${commandId}`,
    issuedAt: Date.now(),
    actor: { kind: 'API_KEY', id: `key-${n % 7}` },
    payload: {
      'io.veridis.command.ProveCommand': {
        circuit: 'IDENTITY_MEMBERSHIP',
        inputs: { secret: [PROOF_SECRET], scope: [String(n)] },
      },
    },
  }
}

export function registerCommand(subjectId: string, attestationId: string): Command {
  const commandId = randomUUID()
  return {
    commandId,
    idempotencyKey: `register-${commandId}`,
    issuedAt: Date.now(),
    actor: { kind: 'UPSTREAM', id: 'kyc-backend' },
    payload: {
      'io.veridis.command.RegisterAttestationCommand': {
        chain: 'eip155:31337',
        registry: '0x00000000000000000000000000000000000000aa',
        attestationId,
        root: '1',
        subjectId,
      },
    },
  }
}

export function erasureCommand(subjectId: string): Command {
  const commandId = randomUUID()
  return {
    commandId,
    idempotencyKey: `erase-${commandId}`,
    issuedAt: Date.now(),
    actor: { kind: 'USER', id: 'dpo' },
    payload: { 'io.veridis.command.RequestErasureCommand': { subjectId, reason: `asked by ${subjectId}` } },
  }
}

export function intakeFact(n: number): AuditFact {
  return {
    factId: randomUUID(),
    action: n % 5 === 0 ? 'command.refused' : 'command.accepted',
    actor: { kind: 'API_KEY', id: `key-${n % 7}` },
    status: n % 5 === 0 ? 403 : 202,
    commandType: 'VerifyCommand',
    commandId: n % 5 === 0 ? null : randomUUID(),
    idempotencyKey: null,
    reason: n % 5 === 0 ? 'forbidden' : null,
    requestId: randomUUID(),
    occurredAt: Date.now(),
  }
}

export async function publishCommands(testBus: TestBus, producer: BusProducer, commands: readonly Command[]) {
  for (let start = 0; start < commands.length; start += 1_000) {
    await producer.publish(
      testBus.bus.topics.command.name,
      commands
        .slice(start, start + 1_000)
        .map((value) => ({ key: value.idempotencyKey, value, eventId: value.commandId })),
    )
  }
}

export async function publishFacts(testBus: TestBus, producer: BusProducer, facts: readonly AuditFact[]) {
  await producer.publish(
    testBus.bus.topics.auditIntake.name,
    facts.map((value) => ({ key: value.actor.id, value, eventId: value.factId })),
  )
}

/** The real audit consumer process, as `veridis up` starts it, in the test's namespace. */
export function startAuditProcess(
  testBus: TestBus,
  opsPort: number,
  children: ChildProcess[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const child = spawn(
    path.join(PROJECT_ROOT, 'bin', 'veridis'),
    ['consume', 'audit', '--ops-port', String(opsPort)],
    {
      env: { ...testEnv(testBus.namespace), VERIDIS_CONSUMER_SESSION_TIMEOUT_MS: '6000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  child.stdout?.on('data', (chunk: Buffer) => {
    if (process.env.VERIDIS_TEST_VERBOSE) process.stderr.write(chunk)
  })
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk))
  children.push(child)
  return child
}

export async function stopProcesses(children: ChildProcess[]) {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }
}

export async function projectedCount(testBus: TestBus): Promise<number> {
  const { rows } = await testBus.pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM audit_records WHERE scope = $1',
    [testBus.bus.topics.audit.name],
  )
  return Number(rows[0]?.n ?? 0)
}

export function waitForProjected(testBus: TestBus, expected: number, timeoutMs = 120_000) {
  return eventually(
    async () => ((await projectedCount(testBus)) >= expected ? true : undefined),
    timeoutMs,
    `${expected} audit records on the topic`,
  )
}

/** Every raw record of a topic, per partition in offset order. */
export async function rawRecords(testBus: TestBus, topic: string) {
  const byPartition = new Map<number, KafkaMessage[]>()
  await readTopicToEnd(testBus.bus.kafka, topic, {}, (partition, message) => {
    const list = byPartition.get(partition) ?? []
    list.push(message)
    byPartition.set(partition, list)
  })
  return byPartition
}

/** Removes this namespace's rows from the audit tables (shared by every namespace). */
export async function cleanAuditTables(testBus: TestBus) {
  const scope = testBus.bus.topics.audit.name
  for (const table of [
    'audit_chain_heads',
    'audit_outbox',
    'audit_records',
    'audit_subject_keys',
    'audit_subject_data',
    'audit_subject_attestations',
    'audit_erasure_tree',
    'audit_erasures',
  ]) {
    await testBus.pool.query(`DELETE FROM ${table} WHERE scope LIKE $1`, [`${scope}%`])
  }
  await testBus.pool.query('DELETE FROM audit_records WHERE scope LIKE $1', [`${testBus.namespace}.%`])
}
