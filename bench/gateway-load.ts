/**
 * The load generator of `bench gateway`, run as its own process so it does not share an
 * event loop with the server it measures. With `uniqueIdempotencyKeys` every request
 * carries a key of its own. autocannon drives the target — with several targets (gateway
 * instances), one autocannon per target at once, the connections split evenly, as a
 * balancer would; every response's time is kept so p50/p95/p99 are exact over all targets
 * (autocannon's own summary has no p95).
 *
 *   node --import tsx bench/gateway-load.ts '<json options>'
 */
import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'

interface LoadOptions {
  /** One target, or several loaded at once. */
  url: string | string[]
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

const urls = Array.isArray(options.url) ? options.url : [options.url]
if (urls.length === 0 || options.connections < urls.length) {
  process.stderr.write('gateway-load: need at least one url and one connection per url\n')
  process.exit(64)
}

/** One autocannon run against `url` with `connections` of the connections. */
function drive(url: string, connections: number) {
  const instance = autocannon({
    url,
    method: 'POST',
    body: options.body,
    headers: { 'content-type': 'application/json', ...options.headers },
    connections,
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
  return new Promise<{ duration: number; errors: number; timeouts: number }>((resolve) => {
    instance.on('done', resolve)
  })
}

const share = (index: number) =>
  Math.floor(options.connections / urls.length) + (index < options.connections % urls.length ? 1 : 0)
const results = await Promise.all(urls.map((url, index) => drive(url, share(index))))
times.sort((a, b) => a - b)
const at = (p: number) =>
  times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? Number.NaN
process.stdout.write(
  `${JSON.stringify({
    seconds: Math.max(...results.map((result) => result.duration)),
    responses: times.length,
    statuses: Object.fromEntries(statuses),
    errors: results.reduce((sum, result) => sum + result.errors, 0),
    timeouts: results.reduce((sum, result) => sum + result.timeouts, 0),
    p50: at(50),
    p95: at(95),
    p99: at(99),
  })}\n`,
)
