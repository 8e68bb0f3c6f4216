import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Gateway } from '../../producers/gateway/index.ts'
import { createSharedRateLimits } from '../../producers/gateway/shared-rate-limits.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'
import { bearer, startTestGateway } from './support.ts'
import { freshWindow, nextWindow } from './windows.ts'

/**
 * The Postgres rate-limit store on the real database: windows by Postgres's clock, the local
 * pre-check, pruning, what a gateway answers while Postgres is away (fail closed), and the
 * in-memory store still on offer. Two real gateway processes sharing it: instances.test.ts.
 */

let testBus: TestBus
const opened: Gateway[] = []
/** Every scope this file counts under; its rows are removed after. */
const scopes: string[] = []

beforeAll(async () => {
  testBus = await openTestBus()
  scopes.push(testBus.bus.topics.command.name)
})

afterAll(async () => {
  for (const gateway of opened) await gateway.close().catch(() => undefined)
  if (testBus) {
    for (const scope of scopes)
      await testBus.pool.query('DELETE FROM gateway_rate_limits WHERE policy LIKE $1', [`${scope}|%`])
    await testBus.close()
  }
})

const newScope = () => {
  const scope = `${testBus.namespace}-${randomBytes(4).toString('hex')}`
  scopes.push(scope)
  return scope
}

const storedCount = async (scope: string, key: string) =>
  (
    await testBus.pool.query<{ count: number }>(
      'SELECT count FROM gateway_rate_limits WHERE policy LIKE $1 AND key = $2 ORDER BY window_start DESC',
      [`${scope}|%`, key],
    )
  ).rows.map((row) => row.count)

describe('windows on the real database', () => {
  test('behavior: past the limit Postgres refuses, then this process refuses without asking; the next window counts afresh', async () => {
    const scope = newScope()
    const windowMs = 5_000
    const limiter = createSharedRateLimits(testBus.pool, { scope }).limiter({
      policy: 'caller',
      limit: 2,
      windowMs,
    })
    await freshWindow(testBus.pool, windowMs, 4_000)
    expect(await limiter.hit('alice')).toMatchObject({ allowed: true, remaining: 1 })
    expect(await limiter.hit('alice')).toMatchObject({ allowed: true, remaining: 0 })
    // The second answer left nothing: the third is refused here and never reaches Postgres.
    const refused = await limiter.hit('alice')
    expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 2 })
    expect(refused.resetSeconds).toBeGreaterThanOrEqual(1)
    expect(refused.resetSeconds).toBeLessThanOrEqual(5)
    expect(await storedCount(scope, 'alice')).toEqual([2])

    // The next window (by Postgres's clock): the remembered exhaustion has ended with the old one.
    await nextWindow(testBus.pool, windowMs)
    expect(await limiter.hit('alice')).toMatchObject({ allowed: true, remaining: 1 })
    expect(await storedCount(scope, 'alice')).toEqual([1, 2])
  })

  test('behavior: an oversized key is counted under its hash, in the same batch as ordinary keys', async () => {
    const scope = newScope()
    const limiter = createSharedRateLimits(testBus.pool, { scope }).limiter({
      policy: 'caller',
      limit: 5,
      windowMs: 60_000,
    })
    await freshWindow(testBus.pool, 60_000, 5_000)
    const long = `USER:${'x'.repeat(5_000)}`
    const decisions = await Promise.all([limiter.hit(long), limiter.hit('USER:short'), limiter.hit(long)])
    expect(decisions.map((decision) => decision.remaining)).toEqual([4, 4, 3])
    const { rows } = await testBus.pool.query<{ key: string }>(
      'SELECT key FROM gateway_rate_limits WHERE policy LIKE $1',
      [`${scope}|%`],
    )
    expect(rows.map((row) => row.key).sort()).toEqual([
      'USER:short',
      expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    ])
  })

  test('behavior: pruning deletes windows that ended over a minute ago and keeps the others', async () => {
    const scope = newScope()
    const policy = `${scope}|caller;q=5;w=60000`
    await testBus.pool.query(
      `INSERT INTO gateway_rate_limits (policy, key, window_start, expires_at, count) VALUES
         ($1, 'old', now() - interval '3 minutes', now() - interval '2 minutes', 7),
         ($1, 'recent', now() - interval '90 seconds', now() - interval '30 seconds', 3),
         ($1, 'current', now(), now() + interval '1 minute', 1)`,
      [policy],
    )
    const removed = await createSharedRateLimits(testBus.pool, { scope }).prune()
    expect(removed).toBeGreaterThanOrEqual(1)
    const { rows } = await testBus.pool.query<{ key: string }>(
      'SELECT key FROM gateway_rate_limits WHERE policy = $1',
      [policy],
    )
    expect(rows.map((row) => row.key).sort()).toEqual(['current', 'recent'])
  })
})

describe('Postgres away', () => {
  test('error: requests the store cannot count are refused with 503, not let through; a source known exhausted still gets 429; recovers without a restart', async () => {
    const databaseUrl = new URL(testBus.common.config.database.url)
    const proxy = await startTcpProxy({ host: databaseUrl.hostname, port: Number(databaseUrl.port) })
    try {
      databaseUrl.port = String(proxy.port)
      const gateway = await startTestGateway(testBus, {
        VERIDIS_LOG_LEVEL: 'fatal',
        VERIDIS_DATABASE_URL: databaseUrl.toString(),
        VERIDIS_GATEWAY_SOURCE_RATE_LIMIT: '3',
        VERIDIS_GATEWAY_RATE_WINDOW_MS: '60000',
      })
      opened.push(gateway)
      await eventually(async () =>
        (await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
      )
      const health = (remoteAddress: string) => gateway.app.inject({ url: '/health', remoteAddress })
      await freshWindow(testBus.pool, 60_000, 20_000)
      const counted = []
      for (let i = 0; i < 4; i++) counted.push((await health('127.0.0.5')).statusCode)
      expect(counted).toEqual([200, 200, 200, 429])

      await proxy.cut()
      const exhausted = await health('127.0.0.5')
      expect(exhausted.statusCode).toBe(429)
      expect(exhausted.headers.ratelimit).toMatch(/"source";r=0;t=\d+/)
      const started = Date.now()
      const uncounted = await health('127.0.0.6')
      expect(uncounted.statusCode).toBe(503)
      expect(uncounted.json()).toMatchObject({ error: 'dependency_unavailable' })
      expect(uncounted.headers['retry-after']).toBe('1')
      expect(Date.now() - started).toBeLessThan(5_000)
      // Consistent with the answers: the balancer is told to send traffic elsewhere.
      await eventually(async () => {
        const ready = await gateway.ops.inject({ url: '/ready' })
        return ready.statusCode === 503 &&
          (ready.json() as { checks: { database: boolean } }).checks.database === false
          ? true
          : undefined
      })

      await proxy.restore()
      const back = await eventually(async () => {
        const answer = await health('127.0.0.6')
        return answer.statusCode === 200 ? answer : undefined
      })
      expect(back.headers.ratelimit).toMatch(/"source";r=2;t=\d+/)
    } finally {
      await proxy.close()
    }
  }, 60_000)
})

describe('the in-memory store', () => {
  test('behavior: VERIDIS_GATEWAY_RATE_LIMIT_STORE=memory counts per process: two instances allow the limit each, and write no row', async () => {
    const env = {
      VERIDIS_LOG_LEVEL: 'fatal',
      VERIDIS_GATEWAY_RATE_LIMIT_STORE: 'memory',
      VERIDIS_GATEWAY_RATE_LIMIT: '2',
      VERIDIS_GATEWAY_RATE_WINDOW_MS: '60000',
    }
    const first = await startTestGateway(testBus, env)
    opened.push(first)
    const second = await startTestGateway(testBus, env)
    opened.push(second)
    await freshWindow(testBus.pool, 60_000, 10_000)
    const headers = await bearer('memory', ['reader'])
    const statuses = async (gateway: Gateway) => {
      const seen: number[] = []
      for (let i = 0; i < 3; i++)
        seen.push((await gateway.app.inject({ url: '/api/v1/network/status', headers })).statusCode)
      return seen
    }
    expect(await statuses(first)).toEqual([200, 200, 429])
    expect(await statuses(second)).toEqual([200, 200, 429])
    const { rows } = await testBus.pool.query(
      `SELECT 1 FROM gateway_rate_limits WHERE policy LIKE $1 AND policy LIKE '%caller;q=2;%'`,
      [`${testBus.bus.topics.command.name}|%`],
    )
    expect(rows).toEqual([])
  })
})
