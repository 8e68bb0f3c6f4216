/**
 * The load generator of `bench gateway`, run as its own process so it does not share an
 * event loop with the server it measures. With `uniqueIdempotencyKeys` every request
 * carries a key of its own. autocannon drives the target; every response's
 * time is kept so p50/p95/p99 are exact (autocannon's own summary has no p95).
 *
 *   node --import tsx bench/gateway-load.ts '<json options>'
 */
import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'

interface LoadOptions {
  url: string
  body: string
  headers: Record<string, string>
  connections: number
  durationSeconds: number
  /** A fresh Idempotency-Key on every request, as a careful client sends. */
  uniqueIdempotencyKeys?: boolean
}

const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions
const times: number[] = []
const statuses = new Map<number, number>()

const instance = autocannon({
  url: options.url,
  method: 'POST',
  body: options.body,
  headers: { 'content-type': 'application/json', ...options.headers },
  connections: options.connections,
  duration: options.durationSeconds,
  pipelining: 1,
  ...(options.uniqueIdempotencyKeys
    ? {
        requests: [
          {
            setupRequest: (request: { headers: Record<string, string> }) => {
              request.headers = { ...request.headers, 'idempotency-key': `bench-${randomUUID()}` }
              return request
            },
          },
        ],
      }
    : {}),
})
instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
  times.push(responseTime)
  statuses.set(statusCode, (statuses.get(statusCode) ?? 0) + 1)
})
instance.on('done', (result: { duration: number; errors: number; timeouts: number }) => {
  times.sort((a, b) => a - b)
  const at = (p: number) =>
    times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? Number.NaN
  process.stdout.write(
    `${JSON.stringify({
      seconds: result.duration,
      responses: times.length,
      statuses: Object.fromEntries(statuses),
      errors: result.errors,
      timeouts: result.timeouts,
      p50: at(50),
      p95: at(95),
      p99: at(99),
    })}\n`,
  )
})
