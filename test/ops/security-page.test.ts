import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadConfig } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { migrate } from '../../core/db/migrate.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { ensureChromium, launchChromium } from '../../infra/stack/browser.ts'
import { registerDashboard } from '../../monitor/dashboard/assets.ts'
import { runLagMonitor } from '../../monitor/lag/process.ts'
import type { SecurityOverview } from '../../monitor/security/overview.ts'
import { registerSecurityPage } from '../../monitor/security/page.ts'
import { randomNamespace, testEnv } from '../support/harness.ts'

/**
 * The security page as an operator sees it, in Chromium, served by the lag monitor's process
 * the way `veridis lag` serves it. The guard's read models live in a schema of this file's own
 * (every migration applied there), so the seeded incidents never meet the running guard's.
 */
const SCREENSHOTS = path.join(PROJECT_ROOT, '.veridis', 'test-results')
const schema = `security_page_${randomBytes(4).toString('hex')}`
let admin: Pool
let pool: Pool
let browser: Browser
let port: number
let stopMonitor: () => Promise<void>

beforeAll(async () => {
  const config = loadConfig({ ...testEnv(randomNamespace()) })
  const common = createCommon('security-page-test', { config, exit: () => undefined })
  admin = createPool(config.database, common.logger, 'veridis-test')
  await admin.query(`CREATE SCHEMA ${schema}`)
  const url = new URL(config.database.url)
  url.searchParams.set('options', `-c search_path=${schema}`)
  pool = createPool({ ...config.database, url: url.toString(), poolSize: 4 }, common.logger, 'veridis-test')
  await migrate(pool)
  const monitor = await runLagMonitor(common, {
    port: 0,
    dashboard: (app) => {
      registerDashboard(app)
      registerSecurityPage(app, { pool, logger: common.logger })
    },
  })
  port = monitor.port
  stopMonitor = () => common.shutdown.shutdown('test over')
  await ensureChromium(() => {})
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await stopMonitor?.()
  await pool?.end()
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin?.end()
})

async function openPage(): Promise<Page> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
  const page = await context.newPage()
  const offOrigin: string[] = []
  page.on('request', (request) => {
    if (!request.url().startsWith(`http://127.0.0.1:${port}/`)) offOrigin.push(request.url())
  })
  await page.goto(`http://127.0.0.1:${port}/security`)
  await page.getByTestId('last-updated').filter({ hasText: 'updated' }).waitFor()
  expect(offOrigin).toEqual([])
  return page
}

async function overview(): Promise<SecurityOverview> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/security/overview`)
  expect(response.status).toBe(200)
  return (await response.json()) as SecurityOverview
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000)

async function seedIncident(incident: {
  alertId: string
  detection: string
  kind: string
  severity: string
  status: string
  occurrences: number
  withdrawn?: boolean
  summary: string
  chains: string[]
  lastAt: Date
}) {
  const record = {
    alertId: incident.alertId,
    kind: incident.kind,
    severity: incident.severity,
    summary: incident.summary,
    status: incident.status,
    occurrences: incident.occurrences,
    chains: incident.chains,
    detection: incident.detection,
    revision: 1,
  }
  await pool.query(
    `INSERT INTO bridge_incidents (alert_id, detection, scope, kind, severity, occurrences, active, withdrawn,
       revision, first_at, last_at, record)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10, $11)`,
    [
      incident.alertId,
      incident.detection,
      `veridis-local:${incident.chains[0]}:0xgateway`,
      incident.kind,
      incident.severity,
      incident.occurrences,
      incident.withdrawn ? 0 : incident.occurrences,
      incident.withdrawn ?? false,
      minutesAgo(30),
      incident.lastAt,
      JSON.stringify(record),
    ],
  )
}

describe('security page', () => {
  test('behavior: with no read-model rows it says so, section by section, rather than showing empty tables', async () => {
    const page = await openPage()
    expect(await page.getByTestId('incidents-empty').isVisible()).toBe(true)
    expect(await page.getByTestId('reserves-empty').textContent()).toBe('No checks yet.')
    expect(await page.getByTestId('reserves-empty').isVisible()).toBe(true)
    expect(await page.getByTestId('guardians-empty').isVisible()).toBe(true)
    expect(await page.getByTestId('open-CRITICAL').locator('b').textContent()).toBe('0')
    expect(await page.getByTestId('incident').count()).toBe(0)
    await page.close()
  })

  test('behavior: seeded incidents, reserves and guardians appear; a withdrawal closes its incident on the next poll', async () => {
    await seedIncident({
      alertId: 'a-nomad-copies',
      detection: 'unproven-message',
      kind: 'UNPROVEN_MESSAGE',
      severity: 'CRITICAL',
      status: 'UPDATED',
      occurrences: 300,
      summary: 'release of <b>vBRG</b> proven against root 0x00 (zero root) on eip155:31338',
      chains: ['eip155:31338'],
      lastAt: minutesAgo(1),
    })
    await seedIncident({
      alertId: 'b-reorged-away',
      detection: 'release-without-source',
      kind: 'MINT_WITHOUT_LOCK',
      severity: 'HIGH',
      status: 'WITHDRAWN',
      occurrences: 2,
      withdrawn: true,
      summary: 'mint without a source lock (its block left the chain)',
      chains: ['eip155:31338', 'eip155:31337'],
      lastAt: minutesAgo(5),
    })
    // Two checks of one token: the page shows the newest (short by a fifth), not the older full one.
    await pool.query(
      `INSERT INTO bridge_reserve_checks (bridge_id, token, custody, custody_chain, custody_block, wrapped_supply,
         in_flight, heights, shortfall, checked_at)
       VALUES ('veridis-local', 'vBRG', 1000000000000000000000000, 'eip155:31337', 90, 1000000000000000000000000, 0,
               '{}', 0, now() - interval '2 minutes'),
              ('veridis-local', 'vBRG', 800000000000000000000000, 'eip155:31337', 120, 900000000000000000000000,
               100000000000000000000000, '{"eip155:31338": 118}', 200000000000000000000000, now())`,
    )
    await pool.query(
      `INSERT INTO bridge_guardian_activity (gateway, chain, guardian, operator, signed, eligible, latency_ms_total,
         latency_samples, last_signed_at)
       VALUES ('0xgateway', 'eip155:31338', '0x1111111111111111111111111111111111111111', 'guardian-operator-1', 9, 10,
               6000, 6, now()),
              ('0xgateway', 'eip155:31338', '0x2222222222222222222222222222222222222222', 'guardian-operator-2', 0, 10,
               0, 0, NULL)`,
    )

    const api = await overview()
    expect(api.openBySeverity).toMatchObject({ CRITICAL: 1, HIGH: 0 })
    expect(api.incidents.map((incident) => [incident.alertId, incident.status, incident.open])).toEqual([
      ['a-nomad-copies', 'UPDATED', true],
      ['b-reorged-away', 'WITHDRAWN', false],
    ])
    expect(api.reserves).toHaveLength(1)
    expect(api.reserves[0]).toMatchObject({
      custodyBlock: 120,
      ratio: 0.8,
      shortfall: '200000000000000000000000',
    })

    const page = await openPage()
    const open = page.locator('[data-testid="incident"][data-alert-id="a-nomad-copies"]')
    await open.waitFor()
    expect(await open.getAttribute('data-severity')).toBe('CRITICAL')
    expect(await open.getAttribute('data-open')).toBe('true')
    expect(await open.getByTestId('incident-status').textContent()).toBe('UPDATED')
    expect(await open.getByTestId('incident-occurrences').textContent()).toBe('300')
    // Chain data is text, never markup.
    expect(await open.getByTestId('incident-summary').textContent()).toContain('<b>vBRG</b>')
    expect(await open.locator('b').count()).toBe(0)
    const withdrawn = page.locator('[data-testid="incident"][data-alert-id="b-reorged-away"]')
    expect(await withdrawn.getAttribute('data-open')).toBe('false')
    expect(await withdrawn.getByTestId('incident-status').textContent()).toBe('WITHDRAWN')
    expect(await page.getByTestId('incidents-empty').isVisible()).toBe(false)
    expect(await page.getByTestId('open-CRITICAL').locator('b').textContent()).toBe('1')
    expect(await page.getByTestId('open-HIGH').locator('b').textContent()).toBe('0')

    const reserve = page.locator('[data-testid="reserve"][data-token="vBRG"]')
    expect(await reserve.count()).toBe(1)
    expect(await reserve.getByTestId('reserve-ratio').textContent()).toBe('0.8000')
    expect(await reserve.getByTestId('reserve-ratio').getAttribute('class')).toContain('ratio-short')
    expect(await reserve.getByTestId('reserve-shortfall').textContent()).toBe(
      '200,000,000,000,000,000,000,000',
    )
    expect(await page.getByTestId('reserves-empty').isVisible()).toBe(false)

    const steady = page.locator(
      '[data-testid="guardian"][data-guardian="0x1111111111111111111111111111111111111111"]',
    )
    expect(await steady.getByTestId('guardian-participation').textContent()).toBe('90.0 %')
    expect(await steady.getByTestId('guardian-latency').textContent()).toBe('1.0 s')
    const absent = page.locator(
      '[data-testid="guardian"][data-guardian="0x2222222222222222222222222222222222222222"]',
    )
    expect(await absent.getByTestId('guardian-participation').textContent()).toBe('0.0 %')
    expect(await absent.getByTestId('guardian-latency').textContent()).toBe('—')
    await page.screenshot({ path: path.join(SCREENSHOTS, 'security-page-incidents.png'), fullPage: true })

    // A reorg takes the offending releases away: the page follows without a reload.
    await pool.query(
      `UPDATE bridge_incidents SET withdrawn = true, active = 0,
         record = jsonb_set(record, '{status}', '"WITHDRAWN"') WHERE alert_id = 'a-nomad-copies'`,
    )
    await expect.poll(() => open.getAttribute('data-open'), { timeout: 15_000 }).toBe('false')
    expect(await open.getByTestId('incident-status').textContent()).toBe('WITHDRAWN')
    expect(await page.getByTestId('open-CRITICAL').locator('b').textContent()).toBe('0')
    await page.close()
  }, 60_000)

  test('error: with the read models unreachable the API answers 503 with the reason and the page marks itself stale', async () => {
    await pool.query(`ALTER TABLE bridge_incidents RENAME TO bridge_incidents_away`)
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/security/overview`)
      expect(response.status).toBe(503)
      const body = (await response.json()) as { error: string; reason: string }
      expect(body.reason).toContain('bridge_incidents')
      const context = await browser.newContext()
      const page = await context.newPage()
      await page.goto(`http://127.0.0.1:${port}/security`)
      const stale = page.getByTestId('stale')
      await stale.waitFor()
      expect(await stale.textContent()).toContain('unreachable')
      await page.close()
    } finally {
      await pool.query(`ALTER TABLE bridge_incidents_away RENAME TO bridge_incidents`)
    }
  })
})
