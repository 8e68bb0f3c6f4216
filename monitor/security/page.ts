import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import type { Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'
import type { Logger } from '../../core/logging/logger.ts'
import { readSecurityOverview } from './overview.ts'

/**
 * The security page beside the lag dashboard, in the lag monitor's process: like the lag
 * page it watches the pipeline from outside, so it keeps showing the last findings when the
 * bridge guard is down (the guard's own ops server would go down with it). `/security` is the
 * page; it polls `/api/v1/security/overview`, which reads the guard's read models in
 * PostgreSQL. It shares the dashboard's stylesheet (registerDashboard serves it).
 */
const here = dirname(fileURLToPath(import.meta.url))

const ASSETS = new Map([
  ['/security', { file: join(here, 'security.html'), contentType: 'text/html; charset=utf-8' }],
  ['/security.js', { file: join(here, 'security.js'), contentType: 'text/javascript; charset=utf-8' }],
  ['/security.css', { file: join(here, 'security.css'), contentType: 'text/css; charset=utf-8' }],
])

export function registerSecurityPage(app: FastifyInstance, options: { pool: Pool; logger: Logger }) {
  for (const [path, asset] of ASSETS) {
    const body = readFileSync(asset.file)
    app.get(path, async (_request, reply) =>
      reply
        .header('content-type', asset.contentType)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(body),
    )
  }
  app.get('/api/v1/security/overview', async (_request, reply) => {
    try {
      return reply.header('cache-control', 'no-store').send(await readSecurityOverview(options.pool))
    } catch (error) {
      // The page says so rather than showing an empty list as if nothing were wrong.
      options.logger.warn({ err: describeError(error) }, 'reading the security read models failed')
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .send({ error: 'the bridge guard read models are unreachable', reason: describeError(error).message })
    }
  })
}
