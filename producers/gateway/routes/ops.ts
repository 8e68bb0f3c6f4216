import type { FastifyInstance } from 'fastify'
import type { Common } from '../../../core/context.ts'
import type { DependencyHealth } from '../kafka-health.ts'

/** Operations: no credentials, as for every pipeline process. */
export function registerOpsRoutes(
  app: FastifyInstance,
  parts: { common: Common; health: DependencyHealth },
): void {
  const { common, health } = parts
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok', service: common.service }))
  app.get('/ready', { schema: { hide: true } }, async (_request, reply) => {
    const checks = health.checks()
    const ready = checks.kafka && checks.registry && checks.database && checks.producer
    return reply.code(ready ? 200 : 503).send({ ready, checks })
  })
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await common.metrics.registry.metrics()
    return reply.header('content-type', common.metrics.registry.contentType).send(body)
  })
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}
