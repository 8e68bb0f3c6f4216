import type { FastifyInstance } from 'fastify'
import type { Common } from '../../../core/context.ts'
import { startOpsServer } from '../../../core/ops/server.ts'
import type { DependencyHealth } from '../kafka-health.ts'

/** The ops port of the gateway process, as every pipeline process has one (core/ops/server.ts). */
export const GATEWAY_OPS_PORT = 9478

/** Liveness only on the public port: nothing about the process, its version or its traffic. */
export function registerPublicHealth(app: FastifyInstance): void {
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }))
}

/**
 * `/health`, `/ready` (503 until Kafka, the registry and Postgres answer and the producer
 * is connected), `/metrics` and the OpenAPI document, on the ops port: operators and
 * Prometheus reach it, the public does not.
 */
export function startGatewayOps(
  common: Common,
  options: { port: number; health: DependencyHealth; api: FastifyInstance },
) {
  const { health, api } = options
  const check = (name: keyof ReturnType<DependencyHealth['checks']>) => ({
    name,
    check: () => health.checks()[name],
  })
  return startOpsServer(common, {
    port: options.port,
    checks: [check('kafka'), check('registry'), check('database'), check('producer')],
    extend: (ops) => {
      ops.get('/docs/openapi.json', async () => api.swagger())
    },
  })
}
