import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createConsumerRunner } from '../../core/bus/consumer.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { loadConfig } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { ensureChromium, launchChromium } from '../../infra/stack/browser.ts'
import { runKafkaTool } from '../../infra/stack/kafka.ts'
import { stackContext } from '../../infra/stack/stack.ts'
import { registerDashboard } from '../../monitor/dashboard/assets.ts'
import type { GroupView } from '../../monitor/lag/monitor.ts'
import { runLagMonitor } from '../../monitor/lag/process.ts'
import { eventually, openTestBus, type TestBus, testEnv, testProducer } from '../support/harness.ts'
import { sampleNullifier } from '../support/records.ts'

let testBus: TestBus
let producer: BusProducer
let monitor: Awaited<ReturnType<typeof runLagMonitor>>
let stopMonitor: () => Promise<void>
let browser: Browser
const SCREENSHOTS = path.join(PROJECT_ROOT, '.veridis', 'test-results')

beforeAll(async () => {
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  const config = loadConfig({
    ...testEnv(testBus.namespace),
    VERIDIS_LAG_POLL_MS: '500',
    VERIDIS_LAG_WINDOW: '4',
    VERIDIS_LAG_GROUP_FILTER: `^${testBus.namespace}\\.`,
  })
  const common = createCommon('lag-monitor-test', { config, exit: () => undefined })
  monitor = await runLagMonitor(common, { port: 0, dashboard: registerDashboard })
  await ensureChromium(() => {})
  browser = await launchChromium()
  stopMonitor = () => common.shutdown.shutdown('test over')
})

afterAll(async () => {
  await browser?.close()
  await stopMonitor?.()
  await producer?.disconnect()
  await testBus?.close()
})

async function openDashboard(): Promise<Page> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  const offOrigin: string[] = []
  page.on('request', (request) => {
    if (!request.url().startsWith(`http://127.0.0.1:${monitor.port}/`)) offOrigin.push(request.url())
  })
  await page.goto(`http://127.0.0.1:${monitor.port}/`)
  await page.getByTestId('dlq-count').waitFor()
  expect(offOrigin).toEqual([])
  return page
}

async function lagApi(): Promise<{ groups: GroupView[]; dlq: { messages: number } }> {
  const response = await fetch(`http://127.0.0.1:${monitor.port}/api/v1/lag`)
  expect(response.status).toBe(200)
  return (await response.json()) as { groups: GroupView[]; dlq: { messages: number } }
}

async function groupView(group: string): Promise<GroupView | undefined> {
  return (await lagApi()).groups.find((view) => view.group === group)
}

const publishNullifiers = (from: number, count: number) =>
  producer.publish(
    testBus.bus.topics.nullifier.name,
    Array.from({ length: count }, (_, index) => {
      const value = sampleNullifier(from + index, testBus.namespace)
      return { key: `${value.scope}:${value.nullifier}`, value, eventId: value.envelope.eventId }
    }),
  )

describe('lag monitor', () => {
  test("behavior: lag equals Kafka's own consumer-group tool for the same group at the same moment", async () => {
    const topic = testBus.bus.topics.nullifier.name
    await publishNullifiers(0, 300)
    const group = `${testBus.namespace}.agreement`
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    const ends = await admin.fetchTopicOffsets(topic)
    // Commit a different point on each partition: a third, half, all of it.
    await admin.setOffsets({
      groupId: group,
      topic,
      partitions: ends.map((end, index) => ({
        partition: end.partition,
        offset: String(Math.floor((Number(end.high) * [1, 2, 3][index % 3]!) / 3)),
      })),
    })
    await admin.disconnect()
    // Nothing is produced from here on: both readings see the same moment.
    await monitor.pollOnce()
    const view = await groupView(group)
    expect(view).toBeDefined()

    const context = stackContext(testBus.common.config, () => {})
    const output = await runKafkaTool(context, 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', [
      '--bootstrap-server',
      testBus.common.config.kafka.brokers[0]!,
      '--describe',
      '--group',
      group,
    ])
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    const rows = output
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((columns) => columns[0] === group)
      .map(([, rowTopic, partition, current, end, lag]) => ({
        topic: rowTopic,
        partition: Number(partition),
        current,
        end,
        lag: Number(lag),
      }))
      .sort((a, b) => a.partition - b.partition)
    expect(rows).toHaveLength(ends.length)
    expect(rows.some((row) => row.lag > 0)).toBe(true)
    expect(
      view!.partitions.map((partition) => ({
        topic: partition.topic,
        partition: partition.partition,
        current: partition.committedOffset,
        end: partition.latestOffset,
        lag: partition.lag,
      })),
    ).toEqual(rows)
    expect(view!.totalLag).toBe(rows.reduce((sum, row) => sum + row.lag, 0))

    const metrics = await (await fetch(`http://127.0.0.1:${monitor.port}/metrics`)).text()
    for (const row of rows) {
      const series = `kafka_consumergroup_lag{group="${group}",topic="${topic}",partition="${row.partition}",service="lag-monitor-test"}`
      expect(metrics).toContain(`${series} ${row.lag}\n`)
    }
  })

  test('behavior: a consumer stopped while producing goes to STOP with growing lag seconds; restarted, back to OK; the dashboard shows it', async () => {
    const topic = testBus.bus.topics.nullifier.name
    const group = `${testBus.namespace}.veridis.watched`
    const startConsumer = async () => {
      const runner = createConsumerRunner(testBus.common, {
        bus: testBus.bus,
        producer,
        definition: { name: 'watched', groupId: group, topics: [topic], handle: async () => {} },
      })
      await runner.start()
      return runner
    }
    let produced = 1_000
    let producing = true
    const production = (async () => {
      while (producing) {
        await publishNullifiers(produced, 20)
        produced += 20
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    })()

    try {
      const first = await startConsumer()
      await eventually(
        async () =>
          (await groupView(group))?.status === 'OK' && (await groupView(group))!.members === 1
            ? true
            : undefined,
        30_000,
        'group OK',
      )

      await first.stop()
      const stopped = await eventually(
        async () => {
          const view = await groupView(group)
          return view?.status === 'ERR' && view.worstPartitionStatus === 'STOP' ? view : undefined
        },
        30_000,
        'group STOP',
      )
      expect(stopped.members).toBe(0)
      const before = stopped.maxLagSeconds
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      const later = (await groupView(group))!
      expect(later.maxLagSeconds).toBeGreaterThan(before + 1)
      expect(later.totalLag).toBeGreaterThan(stopped.totalLag)

      // What an operator sees: the group's card turns red with STOP, lag and lag seconds shown.
      const page = await openDashboard()
      const card = page.locator(`[data-testid="group-card"][data-group="${group}"]`)
      await card.waitFor()
      await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe('ERR')
      expect(await card.getAttribute('data-worst-partition-status')).toBe('STOP')
      expect(await card.locator('[data-testid="group-status"]').textContent()).toContain('STOP')
      expect(
        Number(((await card.locator('[data-testid="group-lag"]').textContent()) ?? '').replace(/\D/g, '')),
      ).toBeGreaterThan(0)
      await expect
        .poll(
          async () => Number(await card.locator('[data-testid="lag-chart"]').getAttribute('data-points')),
          { timeout: 10_000 },
        )
        .toBeGreaterThan(3)
      await page.screenshot({
        path: path.join(SCREENSHOTS, 'dashboard-consumer-stopped.png'),
        fullPage: true,
      })

      const second = await startConsumer()
      const recovered = await eventually(
        async () => {
          const view = await groupView(group)
          return view?.status === 'OK' && view.members === 1 ? view : undefined
        },
        60_000,
        'group back to OK',
      )
      expect(recovered.maxLagSeconds).toBeLessThan(later.maxLagSeconds)
      await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe('OK')
      await page.screenshot({
        path: path.join(SCREENSHOTS, 'dashboard-consumer-restarted.png'),
        fullPage: true,
      })
      await page.close()
      await second.stop()
    } finally {
      producing = false
      await production
    }
  }, 120_000)
})
