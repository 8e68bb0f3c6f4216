import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadConfig } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { protocolMetricNames } from '../../core/metrics/protocol.ts'
import { createMetrics } from '../../core/metrics/registry.ts'
import { instrumentHttp, startOpsServer } from '../../core/ops/server.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import {
  BUS_METRICS,
  LAG_METRICS,
  PROTOCOL_METRICS,
  queryableMetricNames,
  RECORDED_METRICS,
} from '../../infra/prometheus/metric-names.ts'
import {
  checkRuleFiles,
  checkRules,
  ensurePrometheus,
  listensOnAllInterfaces,
  type RunningPrometheus,
  ruleFiles,
  startPrometheus,
  testRules,
} from '../../infra/stack/prometheus.ts'
import { createLagState } from '../../monitor/lag/monitor.ts'
import { eventually, randomNamespace, testEnv } from '../support/harness.ts'

/** Every alert the rule files define; adding one means adding it here on purpose. */
const ALERTS = [
  'KafkaConsumerLagHigh',
  'KafkaConsumerLagCritical',
  'KafkaConsumerGroupError',
  'KafkaConsumerGroupFallingBehind',
  'KafkaConsumerPartitionStalled',
  'KafkaConsumerPartitionStopped',
  'KafkaConsumerPartitionRewound',
  'VeridisDeadLetterQueueGrowing',
  'VeridisLagMonitorFailing',
  'VeridisConsumerNotReady',
  'VeridisHandlerRetrying',
  'VeridisProduceErrors',
  'VeridisDeadLettersProduced',
  'VeridisHandlerSlow',
  'VeridisScrapeTargetDown',
  'ZkProofFailureRateHigh',
  'ZkProofsRejected',
  'ZkProofGenerationSlow',
  'ChainListenerBehindHead',
  'ChainListenerFarBehindHead',
  'ChainReorgStorm',
  'ChainRpcErrors',
  'BridgeSecurityAlert',
  'BridgeSecurityFindingsMedium',
  'BridgeMessagesFlagged',
  'BridgeCriticalFinding',
  'BridgeGuardDown',
  'BridgeGuardNotReady',
  'BridgeGuardLagHigh',
  'BridgeGuardEvidenceRpcErrors',
  'BridgeGuardianDiversityOne',
  'BridgeReservesShortfall',
  'NullifierDoubleUse',
  'NullifierPropagationFailed',
  'NullifierPropagationSlow',
  'GatewayAuditFactsDropped',
  'GatewayCommandsUnavailable',
  'GdprRetentionViolation',
  'VeridisHttpErrors',
] as const

const DASHBOARDS_DIR = path.join(PROJECT_ROOT, 'infra/grafana/dashboards')
const home = path.join(PROJECT_ROOT, '.veridis', `test-prometheus-${randomBytes(4).toString('hex')}`)

beforeAll(async () => {
  await ensurePrometheus((message) => process.stderr.write(`[prometheus] ${message}\n`))
  mkdirSync(home, { recursive: true })
}, 300_000)

afterAll(() => {
  rmSync(home, { recursive: true, force: true })
})

/** Rule entries as written in our rule files (`- alert: X` / `- record: y`). */
function declaredRules(): { kind: 'alert' | 'record'; name: string }[] {
  return ruleFiles().flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^\s*- (alert|record): (\S+)\s*$/gm)].map((match) => ({
      kind: match[1] as 'alert' | 'record',
      name: match[2]!,
    })),
  )
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'inf',
  'nan',
  'offset',
  'group_left',
  'group_right',
])

/**
 * Metric names a PromQL expression selects: identifiers left once strings, label matchers,
 * ranges and grouping clauses are removed, that are not functions, aggregations or keywords.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+-?\w+/g, ' ')
  const names = [...bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?/g)]
    .filter((match) => match[2] === undefined)
    .map((match) => match[1]!)
    .filter((name) => !PROMQL_KEYWORDS.has(name.toLowerCase()))
  return [...new Set(names)]
}

/** Grafana's variables, replaced by values that keep the PromQL valid for promtool. */
function withoutGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__(?:rate_interval|interval|range)\b/g, '5m')
    .replace(/\$\{\w+(?::\w+)?\}|\$\w+/g, '.*')
}

interface Panel {
  type: string
  title: string
  datasource?: { type: string; uid: string }
  targets?: { expr?: string }[]
  panels?: Panel[]
}

interface Dashboard {
  uid: string
  title: string
  schemaVersion: number
  panels: Panel[]
  templating: { list: { name: string; type: string; query: unknown; definition?: string }[] }
}

function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard,
    }))
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (typeof address !== 'object' || !address) throw new Error('no port')
  return address.port
}

interface ApiAnswer<T> {
  status: string
  data: T
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url)
  expect(response.status).toBe(200)
  const body = (await response.json()) as ApiAnswer<T>
  expect(body.status).toBe('success')
  return body.data
}

describe('prometheus rules and grafana dashboards', () => {
  test('behavior: promtool accepts every rule file', async () => {
    const report = await checkRules()
    const counts = [...report.matchAll(/SUCCESS: (\d+) rules found/g)].map((match) => Number(match[1]))
    expect(counts).toHaveLength(ruleFiles().length)

    const declared = declaredRules()
    expect(counts.reduce((sum, count) => sum + count, 0)).toBe(declared.length)
    const alerts = declared.filter((rule) => rule.kind === 'alert').map((rule) => rule.name)
    expect([...alerts].sort()).toEqual([...ALERTS].sort())
    const records = new Set(declared.filter((rule) => rule.kind === 'record').map((rule) => rule.name))
    expect(records).toEqual(new Set(RECORDED_METRICS))

    // Unit tests of the alerts: they fire on the right series, after their `for:`, readable.
    expect(await testRules()).toContain('SUCCESS')
  })

  test('behavior: every Grafana dashboard is valid JSON whose queries only use metrics we export or declare', async () => {
    // The allow-list names what the code really registers, so a renamed metric fails here.
    const exported = new Set([
      ...createMetrics('names')
        .registry.getMetricsAsArray()
        .map((metric) => metric.name),
      ...protocolMetricNames(),
    ])
    const httpRegistry = new Registry()
    instrumentHttp(Fastify(), httpRegistry)
    for (const metric of httpRegistry.getMetricsAsArray()) exported.add(metric.name)
    const lagRegistry = new Registry()
    createLagState({ registry: lagRegistry, window: 4, pollIntervalMs: 1_000, dlqTopic: 'dlq' })
    for (const metric of lagRegistry.getMetricsAsArray()) exported.add(metric.name)
    const definedInRunLagMonitor = [
      'veridis_lag_poll_duration_seconds',
      'veridis_lag_poll_errors_total',
      'veridis_lag_last_successful_poll_timestamp_seconds',
    ]
    const listed = [
      ...Object.keys(BUS_METRICS),
      ...Object.keys(LAG_METRICS),
      ...Object.keys(PROTOCOL_METRICS),
    ]
    expect(listed.filter((name) => !exported.has(name) && !definedInRunLagMonitor.includes(name))).toEqual([])

    expect(
      metricNamesIn('sum by (group) (rate(a_total{x="{y}"}[5m])) / on (g) group_left b or vector(0)'),
    ).toEqual(['a_total', 'b'])

    const dashboards = loadDashboards()
    expect(dashboards.map(({ file }) => file)).toEqual([
      'bridge-guard.json',
      'chains.json',
      'consumer-lag.json',
      'pipeline-throughput.json',
      'proofs.json',
      'security-compliance.json',
    ])
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(dashboards.length)

    const allowed = queryableMetricNames()
    const exprs: { where: string; expr: string }[] = []
    for (const { file, dashboard } of dashboards) {
      expect(dashboard.schemaVersion, file).toBe(39)
      const datasource = dashboard.templating.list.find((variable) => variable.name === 'datasource')
      expect(datasource, file).toMatchObject({ type: 'datasource', query: 'prometheus' })
      for (const variable of dashboard.templating.list.filter((entry) => entry.type === 'query')) {
        const metric = /^label_values\(\s*([a-zA-Z_:][\w:]*)/.exec(variable.definition ?? '')?.[1]
        expect(metric && allowed.has(metric), `${file} variable ${variable.name}: ${metric}`).toBe(true)
      }
      const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])])
      for (const panel of panels.filter((entry) => entry.type !== 'row')) {
        const where = `${file} "${panel.title}"`
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, meant literally
        expect(panel.datasource?.uid, where).toBe('${datasource}')
        const queries = (panel.targets ?? []).map((target) => target.expr ?? '')
        expect(queries.length, where).toBeGreaterThan(0)
        for (const expr of queries) {
          expect(expr.trim(), where).not.toBe('')
          exprs.push({ where, expr })
        }
      }
    }
    const lag = dashboards.find(({ file }) => file === 'consumer-lag.json')!.dashboard
    expect(lag.templating.list.find((variable) => variable.name === 'group')?.definition).toBe(
      'label_values(kafka_consumergroup_lag, group)',
    )

    const unknown = exprs.flatMap(({ where, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !allowed.has(name))
        .map((name) => `${where}: ${name}`),
    )
    expect(unknown).toEqual([])
    expect(exprs.every(({ expr }) => metricNamesIn(expr).length > 0)).toBe(true)

    // promtool parses every query for real, wrapped as recording rules (JSON is YAML).
    const ruleFile = path.join(home, 'dashboard-queries.rules.yml')
    const rules = exprs.map(({ expr }, index) => ({
      record: `dashboard:query_${index}`,
      expr: withoutGrafanaVariables(expr),
    }))
    writeFileSync(ruleFile, JSON.stringify({ groups: [{ name: 'dashboard-queries', rules }] }, null, 2))
    const report = await checkRuleFiles([ruleFile]).catch((error: Error) => {
      // Name the panel, not just the generated rule promtool points at.
      const index = Number(/dashboard:query_(\d+)/.exec(error.message)?.[1])
      const query = exprs[index]
      throw query ? new Error(`${query.where}: ${query.expr}\n${error.message}`) : error
    })
    expect(report).toContain(`SUCCESS: ${exprs.length} rules found`)
  })

  test('behavior: a real Prometheus scrapes the running services without errors', async () => {
    const config = loadConfig({ ...testEnv(randomNamespace()) })
    const common = createCommon('prom-test', { config, exit: () => undefined })
    common.metrics.bus.consumerReady.set({ group: 'prom-test-group' }, 1)
    const ops = await startOpsServer(common, { port: 0, checks: [] })
    let prometheus: RunningPrometheus | undefined
    try {
      const started = Date.now()
      prometheus = await startPrometheus({
        dataDir: path.join(home, 'data'),
        runDir: path.join(home, 'run'),
        logDir: path.join(home, 'logs'),
        port: await freePort(),
        targets: [{ job: 'prom-test', url: `http://127.0.0.1:${ops.port}/metrics` }],
        scrapeIntervalSeconds: 1,
      })
      process.stderr.write(`[prometheus] ready in ${Date.now() - started} ms at ${prometheus.url}\n`)
      const { url } = prometheus
      expect(listensOnAllInterfaces(Number(new URL(url).port))).toBe(false)

      type Target = { labels: Record<string, string>; health: string; lastError: string; scrapeUrl: string }
      const target = await eventually(
        async () => {
          const { activeTargets } = await api<{ activeTargets: Target[] }>(`${url}/api/v1/targets`)
          return activeTargets.find((entry) => entry.labels.job === 'prom-test' && entry.health === 'up')
        },
        20_000,
        'the ops server target to be up',
      )
      expect(target).toMatchObject({ lastError: '', scrapeUrl: `http://127.0.0.1:${ops.port}/metrics` })

      type Sample = { metric: Record<string, string>; value: [number, string] }
      const query = (promql: string) =>
        api<{ result: Sample[] }>(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`).then(
          (data) => data.result,
        )
      const up = await query('up{job="prom-test"}')
      expect(up.map((sample) => sample.value[1])).toEqual(['1'])
      const cpu = await query('process_cpu_user_seconds_total{service="prom-test"}')
      expect(cpu).toHaveLength(1)
      expect(Number(cpu[0]!.value[1])).toBeGreaterThan(0)
      const ready = await query('veridis_bus_consumer_ready{service="prom-test"}')
      expect(ready.map((sample) => [sample.metric.group, sample.value[1]])).toEqual([
        ['prom-test-group', '1'],
      ])
      // Prometheus's own scrapes went through the ops server's HTTP instrumentation.
      const scrapes = await eventually(
        async () => {
          const result = await query('http_requests_total{service="prom-test", route="/metrics"}')
          return result.length > 0 ? result : undefined
        },
        10_000,
        'the scrapes to be counted',
      )
      expect(scrapes[0]!.metric.status_code).toBe('200')

      type Rule = { name: string; type: string; health: string; lastError?: string; query: string }
      type Group = { name: string; file: string; rules: Rule[] }
      const groups = await eventually(
        async () => {
          const data = await api<{ groups: Group[] }>(`${url}/api/v1/rules`)
          const evaluated = data.groups.every((group) =>
            group.rules.every((rule) => rule.health !== 'unknown'),
          )
          return evaluated ? data.groups : undefined
        },
        15_000,
        'every rule to be evaluated',
      )
      const written = ruleFiles().flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/^ {2}- name: (\S+)\s*$/gm)].map((match) => match[1]!),
      )
      expect(groups.map((group) => group.name).sort()).toEqual(written.sort())
      const rules = groups.flatMap((group) => group.rules)
      expect(rules).toHaveLength(declaredRules().length)
      expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([])
      // Rules, like dashboards, only select metrics that exist.
      const allowed = queryableMetricNames()
      expect(rules.flatMap((rule) => metricNamesIn(rule.query).filter((name) => !allowed.has(name)))).toEqual(
        [],
      )

      expect(await prometheus.stop()).toBe('stopped')
    } finally {
      await prometheus?.stop()
      await common.shutdown.shutdown('test over')
    }
  })
})
