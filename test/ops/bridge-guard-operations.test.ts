import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createGuardOperations } from '../../consumers/bridge-guard/operations.ts'
import { type GuardConfig, localBridgeConfigFile, parseGuardConfig } from '../../core/bridge/config.ts'
import { loadConfig } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { migrate } from '../../core/db/migrate.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { createChainReaders } from '../../producers/chains/evm/bridge/chain-reader.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import { randomNamespace, testEnv } from '../support/harness.ts'

/**
 * The bridge guard's own metrics against the real pieces: its read models in PostgreSQL (a
 * schema of this file's own), the local anvils' gateways through the guard's chain reader, and
 * an endpoint that refuses connections. Values are read back from the registry Prometheus scrapes.
 */
const schema = `guard_ops_${randomBytes(4).toString('hex')}`
const common = createCommon('guard-ops-test', {
  config: loadConfig({ ...testEnv(randomNamespace()) }),
  exit: () => undefined,
})
let admin: Pool
let pool: Pool
let config: GuardConfig
// A refusing endpoint whose path holds a key: the metric must name it without the key.
const DEAD_ENDPOINT = 'http://127.0.0.1:9/v3/secret-api-key'

beforeAll(async () => {
  admin = createPool(common.config.database, common.logger, 'veridis-test')
  await admin.query(`CREATE SCHEMA ${schema}`)
  const url = new URL(common.config.database.url)
  url.searchParams.set('options', `-c search_path=${schema}`)
  pool = createPool(
    { ...common.config.database, url: url.toString(), poolSize: 2 },
    common.logger,
    'veridis-test',
  )
  await migrate(pool)
  const raw = JSON.parse(readFileSync(localBridgeConfigFile(common.config.home), 'utf8'))
  raw.chains['eip155:31337'].rpcUrls.push(DEAD_ENDPOINT)
  raw.chains['eip155:31337'].requestTimeoutMs = 1_000
  config = parseGuardConfig(raw, 'test')
}, 60_000)

afterAll(async () => {
  await pool?.end()
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin?.end()
})

async function samples(registry: Registry, name: string) {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name)
  return (metric?.values ?? []) as {
    labels: Record<string, string | number>
    value: number
    metricName?: string
  }[]
}

describe('bridge guard operations metrics', () => {
  test('behavior: diversity is read from the gateways at their head; evidence requests and failures are counted per redacted endpoint', async () => {
    const registry = new Registry()
    const operations = createGuardOperations({ registry, pool, logger: common.logger, config })
    const readers = createChainReaders(config, common.logger, operations.rpc)
    const bridge = config.bridges[0]!
    const expected = new Map<string, number>()
    for (const [chain, gateway] of Object.entries(bridge.gateways)) {
      // Each local guardian is its own operator: forging takes `threshold` operators.
      const { guardians, threshold } = await readers.get(chain)!.quorumAt(gateway, 'latest')
      expect(threshold).toBeGreaterThan(1)
      expect(guardians.length).toBeGreaterThanOrEqual(threshold)
      expected.set(chain, threshold)
    }

    await operations.refreshDiversity(readers)
    const diversity = await samples(registry, 'bridge_guardian_diversity')
    expect(new Map(diversity.map((sample) => [sample.labels.chain, sample.value]))).toEqual(expected)
    expect(diversity.every((sample) => sample.labels.bridge === bridge.id)).toBe(true)

    // Source confirmation asks every endpoint: the refusing one fails, the anvil answers.
    const answers = await readers
      .get('eip155:31337')!
      .sourceLocks(bridge.gateways['eip155:31337']!, 0, [`0x${'ab'.repeat(32)}`])
    expect(answers.map((answer) => answer.ok)).toEqual([true, false])
    const requests = await samples(registry, 'bridge_guard_evidence_rpc_requests_total')
    const errors = await samples(registry, 'bridge_guard_evidence_rpc_errors_total')
    const count = (list: typeof requests, endpoint: string) =>
      list.find((sample) => sample.labels.chain === 'eip155:31337' && sample.labels.endpoint === endpoint)
        ?.value
    expect(count(errors, 'http://127.0.0.1:9/***')).toBe(1)
    expect(count(requests, 'http://127.0.0.1:9/***')).toBe(1)
    // guardians + threshold (the expectation above), blockNumber + guardians + threshold (the
    // refresh), getLogs: all answered.
    expect(count(requests, 'http://127.0.0.1:18545')).toBe(6)
    expect(count(errors, 'http://127.0.0.1:18545')).toBeUndefined()
    expect(JSON.stringify([...requests, ...errors])).not.toContain('secret-api-key')

    // A quorum seen in a chunk moves the gauge; one from an older block never overwrites a newer.
    const [guardian] = (
      await readers.get('eip155:31338')!.quorumAt(bridge.gateways['eip155:31338']!, 'latest')
    ).guardians
    operations.quorumSeen(bridge, 'eip155:31338', 1_000_000, [guardian!], 0)
    operations.quorumSeen(bridge, 'eip155:31338', 5, [guardian!, guardian!], 2)
    const after = await samples(registry, 'bridge_guardian_diversity')
    expect(after.find((sample) => sample.labels.chain === 'eip155:31338')?.value).toBe(1)
  }, 60_000)

  test('behavior: open incidents by detection and severity follow bridge_incidents, withdrawn ones drop out', async () => {
    const registry = new Registry()
    const operations = createGuardOperations({ registry, pool, logger: common.logger, config })
    const insert = (alertId: string, detection: string, severity: string, withdrawn: boolean) =>
      pool.query(
        `INSERT INTO bridge_incidents (alert_id, detection, scope, kind, severity, occurrences, active, withdrawn,
           revision, first_at, last_at, record)
         VALUES ($1, $2, 'veridis-local:eip155:31338:0xg', 'OTHER', $3, 1, 1, $4, 0, now(), now(), '{}')`,
        [alertId, detection, severity, withdrawn],
      )
    await insert('i1', 'quorum-health', 'CRITICAL', false)
    await insert('i2', 'quorum-health', 'CRITICAL', false)
    await insert('i3', 'replay', 'HIGH', false)
    await insert('i4', 'replay', 'HIGH', true)
    await operations.refreshOpenIncidents()
    const open = async () =>
      Object.fromEntries(
        (await samples(registry, 'bridge_guard_open_incidents')).map((sample) => [
          `${sample.labels.detection}/${sample.labels.severity}`,
          sample.value,
        ]),
      )
    expect(await open()).toEqual({ 'quorum-health/CRITICAL': 2, 'replay/HIGH': 1 })
    await pool.query(`UPDATE bridge_incidents SET withdrawn = true WHERE alert_id = 'i3'`)
    await operations.refreshOpenIncidents()
    expect(await open()).toEqual({ 'quorum-health/CRITICAL': 2 })
  })

  test('behavior: records published count by status; detection latency is observed for RAISED only, from the first offending event', async () => {
    const registry = new Registry()
    const operations = createGuardOperations({ registry, pool, logger: common.logger, config })
    const alert: Omit<Alert, 'status'> = {
      alertId: 'x',
      kind: 'SHORT_QUORUM',
      severity: 'CRITICAL',
      chain: null,
      summary: '',
      evidence: [],
      details: {},
      detectedAt: Date.now(),
      detection: 'quorum-health',
      revision: 0,
      occurrences: 1,
      chains: [],
    }
    operations.published({ ...alert, status: 'RAISED' }, Date.now() - 3_000)
    operations.published({ ...alert, status: 'UPDATED', revision: 1 }, Date.now() - 60_000)
    operations.published({ ...alert, status: 'CONFIRMED', revision: 2 }, Date.now() - 60_000)
    const records = await samples(registry, 'bridge_guard_alert_records_published_total')
    expect(Object.fromEntries(records.map((sample) => [sample.labels.status, sample.value]))).toEqual({
      RAISED: 1,
      UPDATED: 1,
      CONFIRMED: 1,
    })
    const latency = await samples(registry, 'bridge_guard_detection_latency_seconds')
    const count = latency.find((sample) => sample.metricName?.endsWith('_count'))
    const sum = latency.find((sample) => sample.metricName?.endsWith('_sum'))
    expect(count).toMatchObject({ value: 1, labels: { detection: 'quorum-health' } })
    expect(sum!.value).toBeGreaterThanOrEqual(3)
    expect(sum!.value).toBeLessThan(5)
    // In the 2–5 s bucket, not below.
    expect(latency.find((sample) => sample.labels.le === 2)?.value).toBe(0)
    expect(latency.find((sample) => sample.labels.le === 5)?.value).toBe(1)
  })
})
