import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { replayAudit } from '../../consumers/audit/replay.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import {
  cleanAuditTables,
  intakeFact,
  projectedCount,
  proveCommand,
  publishCommands,
  publishFacts,
  startAuditProcess,
  stopProcesses,
  waitForProjected,
} from './support.ts'

const COMMANDS = 3_000
const FACTS = 1_000
const EXPECTED = COMMANDS + FACTS

let testBus: TestBus
let producer: BusProducer
const children: ChildProcess[] = []

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
})

afterAll(async () => {
  await stopProcesses(children)
  await producer?.disconnect()
  if (testBus) await cleanAuditTables(testBus)
  await testBus?.close()
})

const kill = async (child: ChildProcess) => {
  child.kill('SIGKILL')
  if (child.exitCode === null && child.signalCode === null)
    await new Promise((resolve) => child.once('exit', resolve))
}

describe('audit chaining exactly once', () => {
  test('behavior: two members, SIGKILLed mid-stream and restarted, leave every chain without gap, fork or duplicate', async () => {
    await publishCommands(
      testBus,
      producer,
      Array.from({ length: COMMANDS }, (_, n) => proveCommand(n)),
    )
    await publishFacts(
      testBus,
      producer,
      Array.from({ length: FACTS }, (_, n) => intakeFact(n)),
    )
    // Small chunks: many transactions, so the kills land between and inside them.
    const env = { VERIDIS_CONSUMER_CHUNK_SIZE: '50' }
    const first = startAuditProcess(testBus, 19_481, children, env)
    const second = startAuditProcess(testBus, 19_482, children, env)
    await eventually(
      async () => ((await projectedCount(testBus)) > EXPECTED * 0.15 ? true : undefined),
      120_000,
      'audit records to appear',
    )
    await kill(first)
    await eventually(
      async () => ((await projectedCount(testBus)) > EXPECTED * 0.4 ? true : undefined),
      120_000,
      'the survivor to take over',
    )
    await kill(second)
    const atKill = await projectedCount(testBus)
    expect(atKill).toBeLessThan(EXPECTED)
    startAuditProcess(testBus, 19_481, children, env)
    await waitForProjected(testBus, EXPECTED, 180_000)
    // Whatever was redelivered is recognised: the count settles at exactly one record per input.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(await projectedCount(testBus)).toBe(EXPECTED)

    const report = await replayAudit(testBus.bus, testBus.pool)
    expect(report.problems).toEqual([])
    expect(report.records).toBe(EXPECTED)
    for (const chain of report.chains) expect(chain.nextSequence).toBe(chain.records)
    const { rows } = await testBus.pool.query<{ ids: string; pending: string }>(
      `SELECT (SELECT count(DISTINCT audit_id) FROM audit_records WHERE scope = $1) AS ids,
              (SELECT count(*) FROM audit_outbox WHERE scope = $1) AS pending`,
      [testBus.bus.topics.audit.name],
    )
    expect(Number(rows[0]!.ids)).toBe(EXPECTED)
    expect(Number(rows[0]!.pending)).toBe(0)
  }, 400_000)
})
