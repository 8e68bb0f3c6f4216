import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'

/**
 * The lag dashboard is static files: the page polls `/api/v1/lag` itself, so the server
 * only hands these out. uPlot is served from node_modules (never a CDN: the dashboard
 * must work on a machine without internet).
 */
export interface DashboardAsset {
  readonly file: string
  readonly contentType: string
}

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)

/** URL path → file on disk, for every file the dashboard loads. */
export function dashboardAssets(): Map<string, DashboardAsset> {
  return new Map([
    ['/', { file: join(here, 'index.html'), contentType: 'text/html; charset=utf-8' }],
    ['/dashboard.js', { file: join(here, 'dashboard.js'), contentType: 'text/javascript; charset=utf-8' }],
    ['/dashboard.css', { file: join(here, 'dashboard.css'), contentType: 'text/css; charset=utf-8' }],
    [
      '/vendor/uPlot.iife.min.js',
      {
        file: require.resolve('uplot/dist/uPlot.iife.min.js'),
        contentType: 'text/javascript; charset=utf-8',
      },
    ],
    [
      '/vendor/uPlot.min.css',
      { file: require.resolve('uplot/dist/uPlot.min.css'), contentType: 'text/css; charset=utf-8' },
    ],
  ])
}

/**
 * Registers every asset as a GET route. The files are read once, here, so a missing one
 * fails at start-up rather than on the first visit. `no-cache` makes the browser
 * revalidate, so a restarted monitor never runs an old script against a new API.
 */
export function registerDashboard(app: FastifyInstance) {
  for (const [path, asset] of dashboardAssets()) {
    const body = readFileSync(asset.file)
    app.get(path, async (_request, reply) =>
      reply
        .header('content-type', asset.contentType)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(body),
    )
  }
}
