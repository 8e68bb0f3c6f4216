import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { BusProducer } from '../../core/bus/producer.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import { eventually, openTestBus, type TestBus, testEnv, testProducer } from '../support/harness.ts'
import { sampleAttestation, sampleBridge, sampleNullifier } from '../support/records.ts'

const EVENTS = 30_000
const OPS_PORT = 19_471

// Each test gets a namespace of its own: its topics, consumer group and ledger rows.
let testBus: TestBus
let producer: BusProducer
const children: ChildProcess[] = []

beforeEach(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
})

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
    }
  }
  await producer?.disconnect()
  await testBus?.close()
})

/** The real consumer process, as `veridis up` starts it, in this test's namespace. */
function startLedger(opsPort = OPS_PORT): ChildProcess {
  const child = spawn(
    path.join(PROJECT_ROOT, 'bin', 'veridis'),
    ['consume', 'ledger', '--ops-port', String(opsPort)],
    {
      env: {
        ...testEnv(testBus.namespace),
        // Small chunks: many transactions, so the kill lands between and inside them.
        VERIDIS_CONSUMER_CHUNK_SIZE: '200',
        // A killed member is noticed after this; the broker's minimum.
        VERIDIS_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      },
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

/** EVENTS chain events, a third on each chain topic, published in this test's namespace. */
async function publishMixed(chunk = 5_000) {
  const publisher = createChainEventPublisher({ bus: testBus.bus, producer })
  const run = testBus.namespace
  const events = Array.from({ length: EVENTS }, (_, n) =>
    n % 3 === 0
      ? ({ topic: 'attestation', value: sampleAttestation(n, run) } as const)
      : n % 3 === 1
        ? ({ topic: 'nullifier', value: sampleNullifier(n, run) } as const)
        : ({ topic: 'bridge', value: sampleBridge(n, run) } as const),
  )
  const started = Date.now()
  for (let start = 0; start < events.length; start += chunk)
    await publisher.publish(events.slice(start, start + chunk))
  console.log(`published ${EVENTS} in ${Date.now() - started} ms`)
  return events
}

/**
 * Every event applied once: one ledger row per id, each counted once in the ledger's counters
 * (a redelivered message counted again would push their total past EVENTS).
 */
async function expectAppliedOnce(events: readonly { value: { envelope: { eventId: string } } }[]) {
  expect(await appliedCount()).toBe(EVENTS)
  const ids = events.map((event) => event.value.envelope.eventId)
  const { rows } = await testBus.pool.query<{ rows: number; distinct_ids: number; changed: number }>(
    `SELECT COUNT(*)::int AS rows, COUNT(DISTINCT event_id)::int AS distinct_ids,
       COUNT(previous_finality)::int AS changed
     FROM chain_events WHERE event_id = ANY($1)`,
    [ids],
  )
  // Published once each as PENDING: no row moved on from its first state.
  expect(rows[0]).toEqual({ rows: EVENTS, distinct_ids: EVENTS, changed: 0 })
}

async function appliedCount(): Promise<number> {
  const { rows } = await testBus.pool.query<{ total: number }>(
    'SELECT COALESCE(SUM(events_total), 0)::bigint AS total FROM chain_event_stats WHERE topic LIKE $1',
    [`${testBus.namespace}.%`],
  )
  return Number(rows[0]!.total)
}

async function metric(name: string, opsPort = OPS_PORT): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0)
}

describe('exactly-once effects', () => {
  test('behavior: SIGTERM stops the consumer cleanly mid-stream (exit 0) and nothing is lost or doubled', async () => {
    const publisher = createChainEventPublisher({ bus: testBus.bus, producer })
    const run = `${testBus.namespace}-term`
    const events = Array.from(
      { length: 10_000 },
      (_, n) => ({ topic: 'nullifier', value: sampleNullifier(n, run) }) as const,
    )
    await publisher.publish(events)
    const child = startLedger()
    await eventually(
      async () => ((await appliedCount()) > 0 ? true : undefined),
      60_000,
      'the ledger to start applying',
    )
    child.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) =>
      child.once('exit', (exitCode) => resolve(exitCode)),
    )
    expect(code).toBe(0)
    const afterStop = await appliedCount()
    // Nothing is applied once the process is gone.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await appliedCount()).toBe(afterStop)
    startLedger()
    await eventually(
      async () => ((await appliedCount()) >= 10_000 ? true : undefined),
      90_000,
      'all events applied',
    )
    expect(await appliedCount()).toBe(10_000)
  }, 180_000)

  test('behavior: a consumer SIGKILLed mid-batch and restarted applies every message exactly once', async () => {
    const events = await publishMixed()

    const first = startLedger()
    const applied = await eventually(
      async () => {
        const count = await appliedCount()
        return count > EVENTS * 0.2 ? count : undefined
      },
      60_000,
      'the ledger to be part-way through',
    )
    first.kill('SIGKILL')
    await new Promise((resolve) => first.once('exit', resolve))
    const atKill = await appliedCount()
    expect(atKill).toBeGreaterThanOrEqual(applied)
    expect(atKill).toBeLessThan(EVENTS)

    // However much of its work the killed process had committed to Kafka, rewind the group
    // to the beginning: every applied message is now redelivered and must be recognised.
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    const group = `${testBus.namespace}.veridis.ledger`
    await eventually(
      async () => ((await admin.describeGroups([group])).groups[0]?.state === 'Empty' ? true : undefined),
      30_000,
      'the killed member to leave the group',
    )
    for (const topic of [
      testBus.bus.topics.attestation,
      testBus.bus.topics.nullifier,
      testBus.bus.topics.bridge,
    ]) {
      await admin.resetOffsets({ groupId: group, topic: topic.name, earliest: true })
    }
    await admin.disconnect()

    startLedger()
    await eventually(
      async () => ((await appliedCount()) >= EVENTS ? true : undefined),
      90_000,
      'all events applied',
    )
    const duplicates = await metric('veridis_bus_duplicates_skipped_total')
    console.log(`applied at kill: ${atKill}, redelivered and skipped after restart: ${duplicates}`)
    expect(duplicates).toBe(atKill)
    await expectAppliedOnce(events)
  }, 240_000)

  test('behavior: three members of one group, one SIGKILLed mid-batch: the others take over its partitions and every message is applied exactly once', async () => {
    const ports = [OPS_PORT, OPS_PORT + 1, OPS_PORT + 2]
    const members = ports.map((port) => startLedger(port))
    // The group settled with every member holding partitions (3 topics × 3 partitions),
    // before the load: all three are mid-batch when one is killed.
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    const group = `${testBus.namespace}.veridis.ledger`
    await eventually(
      async () => {
        const [described] = (await admin.describeGroups([group])).groups
        return described?.state === 'Stable' &&
          described.members.length === 3 &&
          described.members.every((member) => member.memberAssignment.length > 0)
          ? true
          : undefined
      },
      90_000,
      'three members sharing the partitions',
    )
    await admin.disconnect()
    // Killed while the load is still being published, in small chunks so that records keep
    // arriving: every member is busy with a batch, not waiting for the next one.
    const publishing = publishMixed(1_000)
    const [, victim] = members
    await eventually(
      async () =>
        (await appliedCount()) > EVENTS * 0.2 &&
        (await metric('veridis_bus_messages_consumed_total', ports[1])) > 0
          ? true
          : undefined,
      90_000,
      'every member part-way through, the victim among them',
    )
    victim!.kill('SIGKILL')
    await new Promise((resolve) => victim!.once('exit', resolve))
    const atKill = await appliedCount()
    expect(atKill).toBeLessThan(EVENTS)
    const events = await publishing
    await eventually(
      async () => ((await appliedCount()) >= EVENTS ? true : undefined),
      120_000,
      'the surviving members to apply the rest',
    )
    // What the victim applied but had not committed to Kafka is redelivered to a survivor
    // and recognised there, never applied twice.
    const skipped =
      (await metric('veridis_bus_duplicates_skipped_total', ports[0])) +
      (await metric('veridis_bus_duplicates_skipped_total', ports[2]))
    console.log(
      `three members, one killed at ${atKill} applied; redelivered and skipped by the survivors: ${skipped}`,
    )
    await expectAppliedOnce(events)
  }, 300_000)
})
