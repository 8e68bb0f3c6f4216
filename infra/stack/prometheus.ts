import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { renderTemplate } from './kafka.ts'
import { httpOk, managedProcess, runningPid, startDetached, stopProcess, tailLog } from './process.ts'
import { commandExists, run } from './run.ts'
import type { Progress } from './service.ts'
import { aptInstall } from './system.ts'

/**
 * Prometheus from Debian's package (which also ships `promtool`), run by us on loopback
 * with a config rendered from infra/prometheus/prometheus.yml.template and the alerting
 * and recording rules in infra/prometheus/rules/.
 */
export const PROMETHEUS_PORT = 19090
export const PROMETHEUS_BINARY = '/usr/bin/prometheus'
export const PROMTOOL_BINARY = '/usr/bin/promtool'
export const RULES_DIR = path.join(PROJECT_ROOT, 'infra/prometheus/rules')
export const RULE_TESTS_DIR = path.join(PROJECT_ROOT, 'infra/prometheus/tests')
const TEMPLATE = path.join(PROJECT_ROOT, 'infra/prometheus/prometheus.yml.template')
/** Where the Debian package's own service would listen (on every interface). */
const PACKAGED_PORT = 9090
const READY_TIMEOUT_MS = 30_000

export async function ensurePrometheus(progress: Progress) {
  if (existsSync(PROMETHEUS_BINARY) && existsSync(PROMTOOL_BINARY)) return
  const started = Date.now()
  await aptInstall(['prometheus'], progress)
  await stopPackagedService(progress)
  progress(`prometheus: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

/**
 * The package enables a system service on 0.0.0.0:9090. Without systemd (containers),
 * invoke-rc.d may or may not start it depending on policy-rc.d; either way we want only our
 * own loopback instance, so the packaged one is stopped and kept from starting at boot.
 */
async function stopPackagedService(progress: Progress) {
  const quietly = (command: string, args: string[]) => run(command, args).catch(() => '')
  if (existsSync('/run/systemd/system')) {
    await quietly('systemctl', ['disable', '--now', 'prometheus'])
  } else if (existsSync('/etc/init.d/prometheus')) {
    await quietly('/etc/init.d/prometheus', ['stop'])
    if (await commandExists('update-rc.d')) await quietly('update-rc.d', ['prometheus', 'disable'])
  }
  const deadline = Date.now() + 10_000
  while (listensOnAllInterfaces(PACKAGED_PORT)) {
    if (Date.now() > deadline) {
      throw new Error(
        `something still listens on 0.0.0.0:${PACKAGED_PORT} after installing prometheus; stop the packaged service (systemctl disable --now prometheus)`,
      )
    }
    await sleep(200)
  }
  progress(`prometheus: packaged service not running (nothing on 0.0.0.0:${PACKAGED_PORT})`)
}

/** Whether a socket listens on the wildcard address at `port`, from /proc/net/tcp{,6}. */
export function listensOnAllInterfaces(port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const wildcard = new Set([`00000000:${hexPort}`, `00000000000000000000000000000000:${hexPort}`])
  const LISTEN = '0A'
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => {
    if (!existsSync(file)) return false
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .some((fields) => wildcard.has(fields[1] ?? '') && fields[3] === LISTEN)
  })
}

export function ruleFiles(dir = RULES_DIR, suffix = '.yml'): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => path.join(dir, name))
}

/**
 * `promtool check rules` on the given files (syntax, PromQL, templates, duplicate rules);
 * resolves with promtool's report, e.g. `SUCCESS: 12 rules found` per file.
 */
export async function checkRuleFiles(files: readonly string[]): Promise<string> {
  if (files.length === 0) throw new Error('no rule files to check')
  try {
    return await run(PROMTOOL_BINARY, ['check', 'rules', '--lint=duplicate-rules', '--lint-fatal', ...files])
  } catch (error) {
    throw new Error(`promtool rejected the rules:\n${error instanceof Error ? error.message : String(error)}`)
  }
}

export async function checkRules(): Promise<string> {
  return checkRuleFiles(ruleFiles())
}

/**
 * `promtool test rules` on infra/prometheus/tests/*.test.yml: synthetic series in, the
 * alerts (labels and rendered annotations) that must and must not fire at given times out.
 */
export async function testRules(): Promise<string> {
  const files = ruleFiles(RULE_TESTS_DIR, '.test.yml')
  if (files.length === 0) throw new Error(`no rule tests in ${RULE_TESTS_DIR}`)
  try {
    return await run(PROMTOOL_BINARY, ['test', 'rules', ...files])
  } catch (error) {
    throw new Error(`rule unit tests failed:\n${error instanceof Error ? error.message : String(error)}`)
  }
}

export interface ScrapeTarget {
  readonly job: string
  /** The full metrics URL, e.g. http://127.0.0.1:9471/metrics. */
  readonly url: string
}

/** One scrape config per job; every target of a job must share its scheme and path. */
export function renderScrapeConfigs(targets: readonly ScrapeTarget[]): string {
  const jobs = new Map<string, { scheme: string; path: string; hosts: string[] }>()
  for (const target of targets) {
    const url = new URL(target.url)
    const job = jobs.get(target.job) ?? {
      scheme: url.protocol.replace(':', ''),
      path: url.pathname,
      hosts: [],
    }
    if (job.scheme !== url.protocol.replace(':', '') || job.path !== url.pathname) {
      throw new Error(`targets of job ${target.job} differ in scheme or path; give them separate jobs`)
    }
    job.hosts.push(url.host)
    jobs.set(target.job, job)
  }
  // JSON strings are valid YAML double-quoted scalars, so values need no escaping of their own.
  const quote = (value: string) => JSON.stringify(value)
  return [...jobs]
    .map(([name, job]) =>
      [
        `  - job_name: ${quote(name)}`,
        `    scheme: ${quote(job.scheme)}`,
        `    metrics_path: ${quote(job.path)}`,
        '    static_configs:',
        `      - targets: [${job.hosts.map(quote).join(', ')}]`,
      ].join('\n'),
    )
    .join('\n')
}

export interface PrometheusOptions {
  readonly dataDir: string
  readonly runDir: string
  readonly logDir: string
  readonly port?: number
  readonly targets: readonly ScrapeTarget[]
  readonly scrapeIntervalSeconds?: number
}

export interface RunningPrometheus {
  readonly url: string
  readonly pid: number
  readonly configFile: string
  stop(): Promise<'stopped' | 'killed' | 'not running'>
}

export function renderPrometheusConfig(
  options: Pick<PrometheusOptions, 'targets' | 'scrapeIntervalSeconds'>,
) {
  const interval = options.scrapeIntervalSeconds ?? 15
  return renderTemplate(readFileSync(TEMPLATE, 'utf8'), {
    SCRAPE_INTERVAL: `${interval}s`,
    // Prometheus refuses a timeout longer than the interval.
    SCRAPE_TIMEOUT: `${Math.min(interval, 10)}s`,
    RULES_GLOB: JSON.stringify(path.join(RULES_DIR, '*.yml')),
    SCRAPE_CONFIGS: options.targets.length > 0 ? renderScrapeConfigs(options.targets) : '  []',
  })
}

/**
 * Starts Prometheus detached, listening on 127.0.0.1 only, and resolves once `/-/ready`
 * answers (the TSDB is open and the first rule load has happened).
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const port = options.port ?? PROMETHEUS_PORT
  const proc = managedProcess(options.runDir, options.logDir, 'prometheus')
  const running = runningPid(proc)
  if (running)
    throw new Error(`prometheus is already running (pid ${running}, ${proc.pidFile}); stop it first`)
  mkdirSync(options.dataDir, { recursive: true })
  mkdirSync(options.runDir, { recursive: true })
  const configFile = path.join(options.runDir, 'prometheus.yml')
  writeFileSync(configFile, renderPrometheusConfig(options))
  const pid = startDetached(proc, {
    command: PROMETHEUS_BINARY,
    args: [
      `--config.file=${configFile}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.tsdb.path=${options.dataDir}`,
      // The advertised URL in alerts and the UI; the default is the machine's hostname.
      `--web.external-url=http://127.0.0.1:${port}/`,
    ],
    cwd: options.dataDir,
  })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!(await httpOk(`${url}/-/ready`))) {
    if (!runningPid(proc)) throw new Error(`prometheus exited during start-up:\n${tailLog(proc.logFile)}`)
    if (Date.now() > deadline) {
      await stopProcess(proc, 5_000)
      throw new Error(`prometheus not ready after ${READY_TIMEOUT_MS / 1000} s; see ${proc.logFile}`)
    }
    await sleep(100)
  }
  return { url, pid, configFile, stop: () => stopProcess(proc, 10_000) }
}
