import { randomBytes, randomUUID } from 'node:crypto'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { AuditFact, Command } from '../../core/bus/types.ts'
import type { Pool } from '../../core/db/pool.ts'
import { createApiKey, createApiKeyVerifier } from '../../producers/gateway/api-keys.ts'
import type { Gateway } from '../../producers/gateway/index.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import { bearer, cleanReadModels, startTestGateway, VALID_BODIES } from './support.ts'
import { readTopic, recordCount } from './topic-reader.ts'

/**
 * Issue 16, gateway items 3–9: what an outside tester found with curl, autocannon and an
 * independent Avro client, each as a check against the real gateway, Kafka and Postgres.
 */

let testBus: TestBus
const opened: Gateway[] = []
const apiKeyIds: string[] = []
const CALLERS = ['USER:alice', 'USER:bob', 'USER:carol', 'USER:keyed']

beforeAll(async () => {
  testBus = await openTestBus()
})

afterAll(async () => {
  for (const gateway of opened) await gateway.close().catch(() => undefined)
  if (testBus) {
    await cleanReadModels(testBus, CALLERS)
    await testBus.pool.query('DELETE FROM gateway_api_keys WHERE key_id = ANY($1)', [apiKeyIds])
    await testBus.close()
  }
})

async function gatewayWith(
  overrides: NodeJS.ProcessEnv = {},
  options: Parameters<typeof startTestGateway>[2] = {},
): Promise<Gateway> {
  const gateway = await startTestGateway(testBus, { VERIDIS_LOG_LEVEL: 'fatal', ...overrides }, options)
  opened.push(gateway)
  return gateway
}

/** The pool as the gateway uses it, counting statements whose SQL matches `pattern`. */
function countingPool(pattern: RegExp) {
  const counted: string[] = []
  const wrap = (pool: Pool): Pool =>
    new Proxy(pool, {
      get(target, property) {
        if (property === 'query') {
          return (...args: unknown[]) => {
            const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text
            if (text && pattern.test(text)) counted.push(text)
            return (target.query as (...rest: unknown[]) => unknown)(...args)
          }
        }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  return { wrap, counted }
}

interface RawAnswer {
  status: number | undefined
  headers: Record<string, string>
  body: string
  /** The server closed the connection. */
  closed: boolean
  elapsedMs: number
}

/** Writes raw bytes on a fresh connection and collects what comes back within `waitMs`. */
function rawExchange(
  port: number,
  request: string | undefined,
  options: { waitMs: number; localAddress?: string },
): { answer: Promise<RawAnswer>; socket: net.Socket } {
  const started = Date.now()
  const socket = net.connect({
    host: '127.0.0.1',
    port,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  })
  const answer = new Promise<RawAnswer>((resolve) => {
    let received = ''
    let done = false
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      const [head = '', ...rest] = received.split('\r\n\r\n')
      const [statusLine = '', ...headerLines] = head.split('\r\n')
      const headers: Record<string, string> = {}
      for (const line of headerLines) {
        const at = line.indexOf(':')
        if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim()
      }
      const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]
      resolve({
        status: status ? Number(status) : undefined,
        headers,
        body: rest.join('\r\n\r\n'),
        closed,
        elapsedMs: Date.now() - started,
      })
    }
    const timer = setTimeout(() => finish(false), options.waitMs)
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8')
    })
    socket.on('close', () => finish(true))
    socket.on('error', () => finish(true))
    if (request !== undefined) socket.on('connect', () => socket.write(request))
  })
  return { answer, socket }
}

/** What every answer carries, also those written before any route ran. */
function expectOneErrorShape(
  answer: { headers: Record<string, string | string[] | undefined>; body: string },
  error: string,
) {
  const body = JSON.parse(answer.body) as { error: string; message: string; requestId: string }
  expect(body.error).toBe(error)
  expect(typeof body.message).toBe('string')
  expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/)
  expect(answer.headers['x-request-id']).toBe(body.requestId)
  expect(answer.headers['x-content-type-options']).toBe('nosniff')
  expect(answer.headers['content-security-policy']).toBeDefined()
  expect(answer.headers['strict-transport-security']).toBeDefined()
  expect(answer.headers['cache-control']).toBe('no-store')
  return body
}

const auditTopic = () => testBus.bus.topics.auditIntake.name
const commandTopic = () => testBus.bus.topics.command.name

describe('item 3: ill-formed Unicode', () => {
  test('error: a lone surrogate in a string is refused with 400 naming the field; nothing reaches the topic', async () => {
    const gateway = await gatewayWith()
    await eventually(async () =>
      (await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
    )
    const before = await recordCount(testBus, commandTopic())
    const headers = { ...(await bearer('alice', ['compliance'])), 'content-type': 'application/json' }
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/api/v1/erasure-requests',
      // The JSON text escapes a high surrogate with no low one after it.
      payload: '{"subjectId":"x-\\ud800","reason":"fine"}',
      headers,
    })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ error: 'invalid_request', field: 'body.subjectId' })
    expect((response.json() as { message: string }).message).toMatch(/Unicode/)
    const lowAlone = await gateway.app.inject({
      method: 'POST',
      url: '/api/v1/erasure-requests',
      payload: '{"subjectId":"ok","reason":"\\udc00 alone"}',
      headers,
    })
    expect(lowAlone.statusCode).toBe(400)
    expect(lowAlone.json()).toMatchObject({ field: 'body.reason' })
    // A well-formed pair (an emoji) is fine.
    const pair = await gateway.app.inject({
      method: 'POST',
      url: '/api/v1/erasure-requests',
      payload: '{"subjectId":"x-\\ud83d\\ude00"}',
      headers,
    })
    expect(pair.statusCode).toBe(202)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await recordCount(testBus, commandTopic())).toBe(before + 1)
  })

  test('error: the codec refuses to encode a lone surrogate, naming the field, instead of writing non-UTF-8 bytes', () => {
    const command: Command = {
      commandId: randomUUID(),
      idempotencyKey: randomUUID(),
      issuedAt: Date.now(),
      actor: { kind: 'USER', id: 'alice' },
      payload: {
        'io.veridis.command.RequestErasureCommand': { subjectId: 'x-\ud800', reason: null },
      },
    }
    expect(() => testBus.bus.codec.encodeValue(commandTopic(), command)).toThrow(
      /ill-formed Unicode.*payload.*subjectId/,
    )
    // The key too.
    expect(() => testBus.bus.codec.encodeKey(commandTopic(), 'k-\udfff')).toThrow(/ill-formed Unicode/)
  })
})

describe('item 4: slow requests', () => {
  test('error: a request whose body never arrives is answered 408 within the request timeout, in the one error shape, and closed', async () => {
    const gateway = await gatewayWith({ VERIDIS_GATEWAY_REQUEST_TIMEOUT_MS: '1000' })
    const port = await gateway.listen(0)
    // Authenticated, so the answer cannot be a 401 given before the body is read.
    const { authorization } = await bearer('alice', ['analyst'])
    const { answer } = rawExchange(
      port,
      'POST /api/v1/analysis/bridge HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n' +
        `Authorization: ${authorization}\r\nContent-Length: 100\r\n\r\n{"chain":`,
      { waitMs: 6_000 },
    )
    const result = await answer
    expect(result.status).toBe(408)
    expect(result.closed).toBe(true)
    expect(result.elapsedMs).toBeLessThan(4_000)
    expectOneErrorShape(result, 'request_timeout')
  })

  test('error: connections over the per-source and the total cap are refused at once; the others are served', async () => {
    const gateway = await gatewayWith({
      VERIDIS_GATEWAY_MAX_CONNECTIONS: '6',
      VERIDIS_GATEWAY_MAX_CONNECTIONS_PER_SOURCE: '4',
    })
    const port = await gateway.listen(0)
    const idle: net.Socket[] = []
    const open = async (localAddress: string) => {
      const exchange = rawExchange(port, undefined, { waitMs: 1_500, localAddress })
      idle.push(exchange.socket)
      await new Promise((resolve) => exchange.socket.once('connect', resolve))
      return exchange
    }
    try {
      // Four idle connections from one source are held (within the request timeout) …
      for (let i = 0; i < 4; i++) await open('127.0.0.2')
      // … the fifth from that source is refused with 429 and closed.
      const fifth = await (await open('127.0.0.2')).answer
      expect(fifth.status).toBe(429)
      expect(fifth.closed).toBe(true)
      expectOneErrorShape(fifth, 'too_many_connections')
      // Another source still gets in, up to the total …
      for (let i = 0; i < 2; i++) await open('127.0.0.3')
      const overTotal = await (await open('127.0.0.4')).answer
      expect(overTotal.status).toBe(503)
      expect(overTotal.closed).toBe(true)
      expectOneErrorShape(overTotal, 'too_many_connections')
      // … and once one connection ends, a new request is served.
      idle[0]!.destroy()
      await new Promise((resolve) => setTimeout(resolve, 200))
      const served = await rawExchange(port, 'GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n', {
        waitMs: 1_000,
        localAddress: '127.0.0.2',
      }).answer
      expect(served.status).toBe(200)
    } finally {
      for (const socket of idle) socket.destroy()
    }
  })
})

describe('item 5: refusals cost the sender, not the pipeline', () => {
  test('error: requests from one source are limited before authentication: past the limit 429, not 401', async () => {
    const gateway = await gatewayWith({
      VERIDIS_GATEWAY_SOURCE_RATE_LIMIT: '5',
      VERIDIS_GATEWAY_RATE_WINDOW_MS: '60000',
    })
    const statuses: number[] = []
    let last: Awaited<ReturnType<typeof gateway.app.inject>> | undefined
    for (let i = 0; i < 8; i++) {
      last = await gateway.app.inject({
        method: 'POST',
        url: '/api/v1/analysis/bridge',
        payload: VALID_BODIES['/api/v1/analysis/bridge']!,
        headers: { authorization: 'Bearer not-a-token' },
      })
      statuses.push(last.statusCode)
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
    expect(last!.json()).toMatchObject({ error: 'rate_limited' })
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0)
    expect(last!.headers['ratelimit-policy']).toMatch(/"source";q=5;w=60/)
  })

  test('behavior: unauthenticated refusals become counted audit facts per window, not one record each', async () => {
    const gateway = await gatewayWith({}, { refusalWindowMs: 500 })
    const requestIds: string[] = []
    for (let i = 0; i < 30; i++) {
      const response = await gateway.app.inject({
        method: 'POST',
        url: '/api/v1/analysis/transaction',
        payload: VALID_BODIES['/api/v1/analysis/transaction']!,
      })
      expect(response.statusCode).toBe(401)
      requestIds.push(response.headers['x-request-id'] as string)
    }
    const count = (fact: AuditFact) => Number(/count=(\d+)/.exec(fact.reason ?? '')?.[1] ?? 1)
    const mine = (records: readonly { decoded: unknown }[]) =>
      records
        .map((record) => record.decoded as AuditFact)
        .filter((fact) => requestIds.includes(fact.requestId) && fact.status === 401)
    const records = await readTopic(
      testBus,
      auditTopic(),
      1,
      20_000,
      (read) => mine(read).reduce((sum, fact) => sum + count(fact), 0) >= 30,
    )
    const facts = mine(records)
    expect(facts.length).toBeLessThanOrEqual(2)
    expect(facts.reduce((sum, fact) => sum + count(fact), 0)).toBe(30)
    expect(facts[0]).toMatchObject({
      action: 'command.refused.counted',
      actor: { kind: 'USER', id: 'anonymous' },
      commandType: 'AnalyzeTransactionCommand',
    })
  })

  test('behavior: unknown API keys cost no query each, and a flood of them never evicts a valid key', async () => {
    const { key, record } = await createApiKey(testBus.pool, {
      name: `t ${testBus.namespace}`,
      roles: ['reader'],
    })
    apiKeyIds.push(record.keyId)
    const { wrap, counted } = countingPool(/gateway_api_keys/)
    const verifier = createApiKeyVerifier(wrap(testBus.pool), { cacheMs: 60_000 })
    expect(await verifier.verify(key)).toMatchObject({ keyId: record.keyId })
    const afterValid = counted.length
    const unknown = () => `vk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`
    for (let round = 0; round < 12; round++) {
      const results = await Promise.all(Array.from({ length: 1_000 }, () => verifier.verify(unknown())))
      expect(results.every((result) => result === undefined)).toBe(true)
    }
    // 12 000 unknown ids in well under a second: at most a reload or two, not a query each.
    expect(counted.length - afterValid).toBeLessThanOrEqual(2)
    const beforeValidAgain = counted.length
    expect(await verifier.verify(key)).toMatchObject({ keyId: record.keyId })
    expect(counted.length).toBe(beforeValidAgain)
  })
})

describe('item 6: idempotency keys', () => {
  test('behavior: concurrent keyed requests share their idempotency statements instead of two each', async () => {
    const { wrap, counted } = countingPool(/gateway_idempotency/)
    const gateway = await gatewayWith({}, { poolThrough: wrap })
    await eventually(async () =>
      (await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
    )
    const headers = await bearer('keyed', ['analyst'])
    const keys = Array.from({ length: 40 }, () => `bulk-${randomUUID()}`)
    const before = await recordCount(testBus, commandTopic())
    const send = (key: string) =>
      gateway.app.inject({
        method: 'POST',
        url: '/api/v1/analysis/bridge',
        payload: VALID_BODIES['/api/v1/analysis/bridge']!,
        headers: { ...headers, 'idempotency-key': key },
      })
    const first = await Promise.all(keys.map(send))
    expect(first.map((response) => response.statusCode)).toEqual(keys.map(() => 202))
    expect(counted.length).toBeLessThanOrEqual(12)
    const ids = first.map((response) => (response.json() as { commandId: string }).commandId)
    expect(new Set(ids).size).toBe(40)

    const again = await Promise.all(keys.map(send))
    expect(again.map((response) => response.json())).toEqual(
      ids.map((commandId) => expect.objectContaining({ commandId, replayed: true })),
    )
    // Two at once with one key: one command, the other told to wait or given the same id.
    const twin = `twin-${randomUUID()}`
    const twins = await Promise.all([send(twin), send(twin)])
    const twinStatuses = twins.map((response) => response.statusCode).sort()
    expect([
      [202, 202],
      [202, 409],
    ]).toContainEqual(twinStatuses)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(await recordCount(testBus, commandTopic())).toBe(before + 41)
  })
})

describe('item 7: answers before the handler', () => {
  test('error: a bad URL, an overlong path and oversized headers get the one error shape, the security headers and a request id, never the URL', async () => {
    const gateway = await gatewayWith()
    const port = await gateway.listen(0)
    const badUrl = await fetch(`http://127.0.0.1:${port}/api/v1/commands/%zz-secret`)
    const badBody = await badUrl.text()
    expectOneErrorShape({ headers: Object.fromEntries(badUrl.headers), body: badBody }, 'bad_url')
    expect(badUrl.status).toBe(400)
    expect(badBody).not.toContain('secret')

    const longPath = `/api/v1/commands/${'a'.repeat(3_000)}-secret`
    const long = await fetch(`http://127.0.0.1:${port}${longPath}`)
    const longBody = await long.text()
    expect(long.status).toBe(414)
    expectOneErrorShape({ headers: Object.fromEntries(long.headers), body: longBody }, 'uri_too_long')
    expect(longBody).not.toContain('secret')

    const unknownRoute = await fetch(`http://127.0.0.1:${port}/nowhere-secret`)
    expect(unknownRoute.status).toBe(404)
    expect(await unknownRoute.text()).not.toContain('secret')

    const oversized = await rawExchange(
      port,
      `GET /health HTTP/1.1\r\nHost: gateway\r\nX-Filler: ${'x'.repeat(20_000)}\r\n\r\n`,
      { waitMs: 3_000 },
    ).answer
    expect(oversized.status).toBe(431)
    expectOneErrorShape(oversized, 'headers_too_large')
  })

  test('error: text/plain → 415, a non-UTF-8 charset → 415, a __proto__ key → 400 saying so', async () => {
    const gateway = await gatewayWith()
    const headers = await bearer('alice', ['analyst'])
    const body = JSON.stringify(VALID_BODIES['/api/v1/analysis/bridge'])
    const send = (contentType: string, payload = body) =>
      gateway.app.inject({
        method: 'POST',
        url: '/api/v1/analysis/bridge',
        payload,
        headers: { ...headers, 'content-type': contentType },
      })
    const plain = await send('text/plain')
    expect(plain.statusCode).toBe(415)
    expect(plain.json()).toMatchObject({ error: 'unsupported_media_type', field: 'headers.content-type' })
    const latin1 = await send('application/json; charset=iso-8859-1')
    expect(latin1.statusCode).toBe(415)
    expect((latin1.json() as { message: string }).message).toMatch(/UTF-8/)
    expect((await send('application/json; charset=UTF-8')).statusCode).toBe(202)
    const proto = await send('application/json', '{"chain":"eip155:1","__proto__":{"admin":true}}')
    expect(proto.statusCode).toBe(400)
    expect(proto.json()).toMatchObject({ error: 'invalid_request', field: 'body.__proto__' })
    expect((proto.json() as { message: string }).message).not.toMatch(/not valid JSON/)
  })

  test('behavior: authenticated answers are not cached; IETF RateLimit and RateLimit-Policy fields, not x-ratelimit-*', async () => {
    const gateway = await gatewayWith({
      VERIDIS_GATEWAY_RATE_LIMIT: '50',
      VERIDIS_GATEWAY_RATE_WINDOW_MS: '60000',
    })
    const headers = await bearer('alice', ['reader'])
    const first = await gateway.app.inject({ url: '/api/v1/network/status', headers })
    expect(first.statusCode).toBe(200)
    expect(first.headers['cache-control']).toBe('no-store')
    expect(first.headers['ratelimit-policy']).toMatch(/"caller";q=50;w=60/)
    expect(first.headers.ratelimit).toMatch(/"caller";r=49;t=\d+/)
    const second = await gateway.app.inject({ url: '/api/v1/network/status', headers })
    expect(second.headers.ratelimit).toMatch(/"caller";r=48;t=\d+/)
    expect(Object.keys(second.headers).filter((name) => name.startsWith('x-ratelimit'))).toEqual([])
    const missing = await gateway.app.inject({ url: `/api/v1/commands/${randomUUID()}`, headers })
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['cache-control']).toBe('no-store')
  })
})

describe('item 8: operations off the public port', () => {
  test('behavior: /metrics, /ready and the OpenAPI document answer on the ops port only', async () => {
    const gateway = await gatewayWith()
    const port = await gateway.listen(0)
    await eventually(async () =>
      (await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
    )
    for (const path of ['/metrics', '/ready', '/docs/openapi.json']) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`)
      expect(response.status, path).toBe(404)
      expect(await response.text()).not.toMatch(/nodejs_version_info|"openapi"/)
    }
    const ops = `http://127.0.0.1:${gateway.opsPort}`
    const ready = await fetch(`${ops}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, checks: { kafka: true, database: true } })
    expect(await (await fetch(`${ops}/metrics`)).text()).toMatch(/http_requests_total/)
    const openapi = (await (await fetch(`${ops}/docs/openapi.json`)).json()) as { paths: object }
    expect(Object.keys(openapi.paths)).toContain('/api/v1/commands/{id}')
  })
})

describe("item 9: reads of other callers' commands", () => {
  const insertCommand = async (owner: string) => {
    const commandId = randomUUID()
    await testBus.pool.query(
      `INSERT INTO read_commands (command_id, idempotency_key, command_type, actor_kind, actor_id, summary,
         issued_at, source_topic, kafka_partition, kafka_offset)
       VALUES ($1, $1, 'RequestErasureCommand', 'USER', $2, '{}', now(), $3, 0, '0')`,
      [commandId, owner, `${commandTopic()}`],
    )
    return commandId
  }

  test("behavior: an admin's read of another caller's command leaves an audit fact; an owner's read does not", async () => {
    const gateway = await gatewayWith()
    const commandId = await insertCommand('alice')
    const before = await recordCount(testBus, auditTopic())
    const own = await gateway.app.inject({
      url: `/api/v1/commands/${commandId}`,
      headers: await bearer('alice', ['compliance']),
    })
    expect(own.statusCode).toBe(200)
    const admin = await gateway.app.inject({
      url: `/api/v1/commands/${commandId}`,
      headers: await bearer('carol', ['auditor']),
    })
    expect(admin.statusCode).toBe(200)
    const requestIds = [own.headers['x-request-id'], admin.headers['x-request-id']]
    const reads = (records: readonly { decoded: unknown }[]) =>
      records
        .map((record) => record.decoded as AuditFact)
        .filter((fact) => requestIds.includes(fact.requestId))
    const records = await readTopic(
      testBus,
      auditTopic(),
      before + 1,
      15_000,
      (read) => reads(read).length >= 1,
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(reads(records)).toEqual([
      expect.objectContaining({
        action: 'command.read',
        actor: { kind: 'USER', id: 'carol' },
        status: 200,
        commandId,
        commandType: 'RequestErasureCommand',
        requestId: admin.headers['x-request-id'],
      }),
    ])
    expect(reads(records)[0]!.reason).toMatch(/another caller's command \(owner USER\/alice\)/)
  })

  test("behavior: another caller's command is a 404 by the same path as an unknown id: visibility decided before loading", async () => {
    const { wrap, counted } = countingPool(/read_/)
    const gateway = await gatewayWith({}, { poolThrough: wrap })
    const commandId = await insertCommand('alice')
    const bob = await bearer('bob', ['compliance'])
    const queriesFor = async (id: string) => {
      const start = counted.length
      const response = await gateway.app.inject({ url: `/api/v1/commands/${id}`, headers: bob })
      expect(response.statusCode).toBe(404)
      expect(response.json()).toMatchObject({ error: 'command_not_found' })
      return counted.slice(start)
    }
    const unknown = await queriesFor(randomUUID())
    const others = await queriesFor(commandId)
    expect(unknown).toHaveLength(1)
    expect(others).toEqual(unknown)
  })
})
