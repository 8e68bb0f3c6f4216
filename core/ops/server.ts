import Fastify, { type FastifyInstance } from 'fastify'
import type { Common } from '../context.ts'

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
  options: { port: number; host?: string; checks: readonly ReadinessCheck[] },
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false })
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
  await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' })
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  common.shutdown.onShutdown('ops server', () => app.close())
  common.logger.info({ port }, 'ops endpoints listening (/health, /ready, /metrics)')
  return { app, port }
}
