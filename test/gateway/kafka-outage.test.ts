import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { AuditFact, Command } from '../../core/bus/types.ts'
import type { Gateway } from '../../producers/gateway/index.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import { kafkaThrough, startTcpProxy } from '../support/tcp-proxy.ts'
import { bearer, cleanReadModels, startTestGateway, VALID_BODIES } from './support.ts'
import { readTopic } from './topic-reader.ts'

let testBus: TestBus
const opened: Gateway[] = []

beforeAll(async () => {
  testBus = await openTestBus()
})

afterAll(async () => {
  for (const gateway of opened) await gateway.close().catch(() => undefined)
  if (testBus) {
    await cleanReadModels(testBus, ['USER:alice'])
    await testBus.close()
  }
})

const URL_ = '/api/v1/analysis/transaction'
const BODY = VALID_BODIES[URL_]!

describe('Kafka unavailable', () => {
  test('error: a gateway pointed at an unreachable broker is not ready and answers 503, never 202 or 500', async () => {
    const gateway = await startTestGateway(testBus, { VERIDIS_KAFKA_BROKERS: '127.0.0.1:1' })
    opened.push(gateway)
    const ready = await gateway.ops.inject({ url: '/ready' })
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toMatchObject({
      ready: false,
      checks: { kafka: false, registry: true, database: true },
    })
    const response = await gateway.app.inject({
      method: 'POST',
      url: URL_,
      payload: BODY,
      headers: await bearer('alice', ['analyst']),
    })
    expect(response.statusCode).toBe(503)
    expect(response.json()).toMatchObject({ error: 'kafka_unavailable' })
    expect((response.json() as { message: string }).message).toMatch(
      /Kafka is unavailable.*not accepted.*Idempotency-Key/,
    )
    expect(response.headers['retry-after']).toBe('1')
  })

  test('behavior: Kafka goes away and returns — 503 meanwhile, recovery without restart, no request lost', async () => {
    const proxy = await startTcpProxy({
      host: '127.0.0.1',
      port: Number(testBus.common.config.kafka.brokers[0]!.split(':')[1]),
    })
    const kafka = kafkaThrough(proxy, 'gateway-outage-test')
    const gateway = await startTestGateway(testBus, { VERIDIS_GATEWAY_PUBLISH_TIMEOUT_MS: '2000' }, { kafka })
    opened.push(gateway)
    try {
      const headers = await bearer('alice', ['analyst'])
      const send = (extra: Record<string, string> = {}) =>
        gateway.app.inject({ method: 'POST', url: URL_, payload: BODY, headers: { ...headers, ...extra } })
      await eventually(async () =>
        (await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
      )
      expect((await send()).statusCode).toBe(202)

      await proxy.cut()
      const key = `outage-${randomUUID()}`
      const started = Date.now()
      const during = await send({ 'idempotency-key': key })
      expect(during.statusCode).toBe(503)
      expect(during.json()).toMatchObject({ error: 'kafka_unavailable' })
      expect(Date.now() - started).toBeLessThan(8_000)
      const refusedRequestId = during.headers['x-request-id'] as string
      // Once the failure is known, further requests are refused at once.
      const fast = Date.now()
      expect((await send()).statusCode).toBe(503)
      expect(Date.now() - fast).toBeLessThan(500)
      await eventually(async () =>
        (await gateway.ops.inject({ url: '/ready' })).statusCode === 503 ? true : undefined,
      )

      await proxy.restore()
      // Recovers by itself: ready again and accepting commands.
      await eventually(
        async () => ((await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined),
        60_000,
        'ready after outage',
      )
      const retried = await eventually(
        async () => {
          const response = await send({ 'idempotency-key': key })
          return response.statusCode === 202 ? response : undefined
        },
        60_000,
        'the retried request to be accepted',
      )
      const commandId = (retried.json() as { commandId: string }).commandId

      // The command is on the topic exactly once; the refusal's audit fact was kept and published.
      const commands = await readTopic(testBus, testBus.bus.topics.command.name, 2, 20_000, (read) =>
        read.some((record) => (record.decoded as Command).commandId === commandId),
      )
      expect(commands.filter((record) => (record.decoded as Command).commandId === commandId)).toHaveLength(1)
      const facts = await readTopic(testBus, testBus.bus.topics.auditIntake.name, 1, 30_000, (read) =>
        read.some((record) => (record.decoded as AuditFact).requestId === refusedRequestId),
      )
      const refused = facts.find((record) => (record.decoded as AuditFact).requestId === refusedRequestId)!
      expect(refused.decoded).toMatchObject({ action: 'command.refused', status: 503 })
    } finally {
      await proxy.close()
    }
  })

  test('behavior: commands that time out while waiting behind a hung request are withdrawn, never published after their 503', async () => {
    const proxy = await startTcpProxy({
      host: '127.0.0.1',
      port: Number(testBus.common.config.kafka.brokers[0]!.split(':')[1]),
    })
    const gateway = await startTestGateway(
      testBus,
      { VERIDIS_GATEWAY_PUBLISH_TIMEOUT_MS: '2000' },
      { kafka: kafkaThrough(proxy, 'gateway-withdraw-test', 15_000) },
    )
    opened.push(gateway)
    try {
      const headers = await bearer('alice', ['analyst'])
      const send = (txHash: string) =>
        gateway.app.inject({ method: 'POST', url: URL_, payload: { ...BODY, txHash }, headers })
      const txHash = () => `0x${randomUUID().replace(/-/g, '').repeat(2)}`
      await eventually(async () =>
        (await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
      )
      expect((await send(txHash())).statusCode).toBe(202)

      // Kafka hangs: the first command's request is with the producer, the next ones wait.
      proxy.stall()
      const inFlight = send(txHash())
      await new Promise((resolve) => setTimeout(resolve, 200))
      const waiting = [txHash(), txHash(), txHash()]
      const answers = await Promise.all([inFlight, ...waiting.map((hash) => send(hash))])
      expect(answers.map((answer) => answer.statusCode)).toEqual([503, 503, 503, 503])

      proxy.unstall()
      await eventually(
        async () => ((await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined),
        60_000,
        'ready after the hang',
      )
      const marker = await eventually(
        async () => {
          const response = await send(txHash())
          return response.statusCode === 202 ? response : undefined
        },
        60_000,
        'a command accepted again',
      )
      const markerId = (marker.json() as { commandId: string }).commandId
      const commands = await readTopic(testBus, testBus.bus.topics.command.name, 1, 30_000, (read) =>
        read.some((record) => (record.decoded as Command).commandId === markerId),
      )
      const published = JSON.stringify(commands.map((record) => record.decoded))
      expect(waiting.filter((hash) => published.includes(hash))).toEqual([])
    } finally {
      await proxy.close()
    }
  }, 120_000)

  test('behavior: the audit-intake topic failing does not refuse commands; its facts wait and are retried', async () => {
    const auditTopic = testBus.bus.topics.auditIntake.name
    let auditDown = true
    let auditAttempts = 0
    const gateway = await startTestGateway(
      testBus,
      {},
      {
        // Kafka refuses only the audit topic (as with a leader away or a missing ACL).
        publishThrough: (publishMany) => async (batches) => {
          if (batches.some((batch) => batch.topic === auditTopic)) {
            auditAttempts++
            if (auditDown) throw new Error(`publishing to ${auditTopic} failed (test)`)
          }
          return publishMany(batches)
        },
      },
    )
    opened.push(gateway)
    await eventually(
      async () => ((await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined),
      30_000,
      'gateway ready',
    )
    const headers = await bearer('alice', ['analyst'])
    const send = () => gateway.app.inject({ method: 'POST', url: URL_, payload: BODY, headers })

    // A steady stream of concurrent requests for longer than the audit retry interval, so
    // audit facts (written as each response goes out) are published while commands wait.
    const responses: Awaited<ReturnType<typeof send>>[] = []
    const until = Date.now() + 2_500
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (Date.now() < until) responses.push(await send())
      }),
    )
    expect(responses.map((response) => response.statusCode)).toEqual(responses.map(() => 202))
    expect(auditAttempts).toBeGreaterThan(0)
    expect((await gateway.ops.inject({ url: '/ready' })).statusCode).toBe(200)

    // A failed audit batch waits for its retry timer instead of being re-sent at once.
    const before = auditAttempts
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    expect(auditAttempts - before).toBeLessThanOrEqual(3)

    const commandIds = responses.map((response) => (response.json() as { commandId: string }).commandId)
    const missingCommands = new Set(commandIds)
    const commands = await readTopic(testBus, testBus.bus.topics.command.name, 1, 30_000, (read) => {
      missingCommands.delete((read.at(-1)!.decoded as Command).commandId)
      return missingCommands.size === 0
    })
    const copies = new Map<string, number>()
    for (const record of commands) {
      const id = (record.decoded as Command).commandId
      copies.set(id, (copies.get(id) ?? 0) + 1)
    }
    expect(commandIds.filter((id) => copies.get(id) !== 1)).toEqual([])

    // The topic returns: the waiting facts are published.
    auditDown = false
    const requestIds = new Set(responses.map((response) => response.headers['x-request-id'] as string))
    const missingFacts = new Set(requestIds)
    const facts = await readTopic(testBus, auditTopic, 1, 30_000, (read) => {
      missingFacts.delete((read.at(-1)!.decoded as AuditFact).requestId ?? '')
      return missingFacts.size === 0
    })
    const ours = facts
      .map((record) => record.decoded as AuditFact)
      .filter((fact) => requestIds.has(fact.requestId ?? ''))
    expect(ours.length).toBeGreaterThanOrEqual(requestIds.size)
    for (const fact of ours) expect(fact).toMatchObject({ action: 'command.accepted', status: 202 })
  })
})
