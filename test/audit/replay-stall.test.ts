import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { chainIdOf, chainRecord, GENESIS_HASH } from '../../consumers/audit/record.ts'
import { replayAudit } from '../../consumers/audit/replay.ts'
import { type Bus, connectBus } from '../../core/bus/connect.ts'
import type { AuditEvent } from '../../core/bus/types.ts'
import { loadConfig } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { openTestBus, type TestBus, testEnv } from '../support/harness.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'

/**
 * A replay never waits without bound (issue 16, item 12). Its waits on Kafka were bounded;
 * its waits on the schema registry were not (the registry client has no timeout), and the
 * reader did not count a handler that never returns as a stall — so a registry that accepts
 * connections and never answers hung the replay silently. Here the real registry sits behind
 * a proxy that starts swallowing requests, and the replay must fail within its stall time,
 * naming the offset it was on.
 */
const STALL_MS = 3_000
const PER_PARTITION = 20

let testBus: TestBus
let proxy: Awaited<ReturnType<typeof startTcpProxy>>

beforeAll(async () => {
  testBus = await openTestBus()
  const topic = testBus.bus.topics.audit.name
  await testBus.bus.codec.resolveIds([topic])
  // A short genuine chain in each partition, written as the relay writes them.
  const kafka = testBus.bus.kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await kafka.connect()
  for (const partition of [0, 1, 2]) {
    let prevHash = GENESIS_HASH
    const records: AuditEvent[] = []
    for (let sequence = 0; sequence < PER_PARTITION; sequence++) {
      const record = chainRecord(
        {
          auditId: `stall-${partition}-${sequence}`,
          action: 'command.received',
          actor: { kind: 'SERVICE', id: 'replay-stall-test' },
          subjectHash: null,
          gdprCategory: 'NONE',
          legalBasis: 'NOT_APPLICABLE',
          retentionDays: null,
          references: [`command-${sequence}`],
          details: {},
          occurredAt: Date.now(),
        },
        { chainId: chainIdOf(partition), sequence, prevHash },
      )
      records.push(record)
      prevHash = record.recordHash
    }
    await kafka.send({
      topic,
      acks: -1,
      messages: records.map((record) => ({
        partition,
        key: record.auditId,
        value: testBus.bus.codec.encodeValue(topic, record),
      })),
    })
  }
  await kafka.disconnect()

  const registry = new URL(testBus.common.config.schemaRegistry.url)
  proxy = await startTcpProxy({ host: registry.hostname, port: Number(registry.port) })
}, 120_000)

afterAll(async () => {
  await proxy?.close()
  await testBus?.close()
})

describe('audit replay with a registry that stops answering', () => {
  test('behavior: through the proxy, before it stalls, the replay verifies', async () => {
    const report = await replayAudit(busThroughProxy(), testBus.pool, { rebuild: false, stallMs: STALL_MS })
    expect(report.problems).toEqual([])
    expect(report.records).toBe(3 * PER_PARTITION)
  }, 60_000)

  test('error: a registry that stops answering mid-read fails the replay within the stall time, naming the offset', async () => {
    // A fresh client: ids resolve, then the writer schema must be fetched for the first record.
    const fresh = busThroughProxy()
    await fresh.codec.resolveIds([fresh.topics.audit.name])
    proxy.stall()
    try {
      const started = Date.now()
      await expect(replayAudit(fresh, testBus.pool, { rebuild: false, stallMs: STALL_MS })).rejects.toThrow(
        /stalled: the record at partition \d offset 0 was not handled within 3 s/,
      )
      // The join takes a few seconds; the stall is then noticed within its time.
      expect(Date.now() - started).toBeLessThan(30_000)
    } finally {
      proxy.unstall()
    }
  }, 60_000)

  test('error: a registry that does not answer at the start fails the replay within the stall time', async () => {
    const fresh = busThroughProxy()
    proxy.stall()
    try {
      const started = Date.now()
      await expect(replayAudit(fresh, testBus.pool, { rebuild: false, stallMs: STALL_MS })).rejects.toThrow(
        /the schema registry did not answer within 3 s/,
      )
      expect(Date.now() - started).toBeLessThan(10_000)
    } finally {
      proxy.unstall()
    }
  }, 60_000)
})

/** A bus of the test's namespace whose registry client (with its own fresh caches) goes through the proxy. */
function busThroughProxy(): Bus {
  const registry = new URL(testBus.common.config.schemaRegistry.url)
  registry.port = String(proxy.port)
  const config = loadConfig({
    ...testEnv(testBus.namespace),
    VERIDIS_SCHEMA_REGISTRY_URL: registry.toString().replace(/\/$/, ''),
  })
  return connectBus(createCommon('test-replay-stall', { config, exit: () => undefined }))
}
