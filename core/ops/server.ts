import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Common } from '../context.ts'
import { counter, histogram } from '../metrics/define.ts'

/**
 * `http_requests_total` and `http_request_duration_seconds` for every HTTP server of the
 * pipeline, labelled by the route pattern (never the raw URL, which would explode the
 * number of series) and the status code.
 */
export function instrumentHttp(app: FastifyInstance, registry: Registry) {
  const labelNames = ['method', 'route', 'status_code'] as const
  const requests = counter(registry, 'http_requests_total', 'HTTP requests answered.', labelNames)
  const duration = histogram(
    registry,
    'http_request_duration_seconds',
    'Time to answer an HTTP request.',
    labelNames,
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  )
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    }
    requests.inc(labels)
    duration.observe(labels, reply.elapsedTime / 1000)
  })
}

export interface ReadinessCheck {
  readonly name: string
  readonly check: () => boolean | Promise<boolean>
}

/**
 * `/health` (the process is alive), `/ready` (503 until every readiness check passes) and
 * `/metrics` (Prometheus text format) for every long-running process.
 */
export async function startOpsServer(
  common: Common,
  options: {
    port: number
    host?: string
    checks: readonly ReadinessCheck[]
    /** Extra routes of the process (an API, a dashboard), registered before listening. */
    extend?: (app: FastifyInstance) => void | Promise<void>
  },
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false })
  instrumentHttp(app, common.metrics.registry)
  app.get('/health', async () => ({ status: 'ok', service: common.service }))
  app.get('/ready', async (_request, reply) => {
    const results = await Promise.all(
      options.checks.map(async ({ name, check }) => {
        try {
          return [name, await check()] as const
        } catch {
          return [name, false] as const
        }
      }),
    )
    const ready = results.every(([, ok]) => ok)
    return reply.code(ready ? 200 : 503).send({ ready, checks: Object.fromEntries(results) })
  })
  app.get('/metrics', async (_request, reply) => {
    const body = await common.metrics.registry.metrics()
    return reply.header('content-type', common.metrics.registry.contentType).send(body)
  })
  await options.extend?.(app)
  await app.listen({ port: options.port, host: options.host ?? common.config.opsHost })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  common.shutdown.onShutdown('ops server', () => app.close())
  common.logger.info({ port }, 'ops endpoints listening (/health, /ready, /metrics)')
  return { app, port }
}
