import path from 'node:path'
import { CONSUMERS } from '../../consumers/index.ts'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { CHAIN_FAMILIES } from '../../producers/chains/families.ts'
import { GATEWAY_OPS_PORT } from '../../producers/gateway/routes/ops.ts'
import { tsNodeFlags } from './node-flags.ts'
import { httpOk, managedProcess, runningPid, startDetached, stopProcess, tailLog } from './process.ts'
import { ensurePrometheus, PROMETHEUS_PORT, type ScrapeTarget, startPrometheus } from './prometheus.ts'
import type { StackContext } from './service.ts'

/**
 * The pipeline's own long-running processes, started by `veridis up` next to the stack.
 * Later issues add their listeners, consumers and the gateway here.
 */
export interface PipelineProcess {
  readonly name: string
  readonly args: readonly string[]
  readonly opsPort: number
  /** Set for the second and later instance of a scalable process (`up --instances N`). */
  readonly env?: Readonly<Record<string, string>>
  /**
   * For the second and later instance: the process it is an instance of, its Prometheus job,
   * so that rules and dashboards selecting `job="consumer-ledger"` see every instance, each
   * told apart by its `instance` label (host:port).
   */
  readonly instanceOf?: string
}

export const LAG_MONITOR_PORT = 9480

export const PIPELINE_PROCESSES: readonly PipelineProcess[] = [
  ...Object.entries(CONSUMERS).map(([name, entry]) => ({
    name: `consumer-${name}`,
    args: ['consume', name],
    opsPort: entry.opsPort,
  })),
  { name: 'lag-monitor', args: ['lag'], opsPort: LAG_MONITOR_PORT },
  // The HTTP command gateway: its API on VERIDIS_GATEWAY_PORT, ops endpoints apart (docs/gateway.md).
  { name: 'gateway', args: ['gateway'], opsPort: GATEWAY_OPS_PORT },
  // One listener per chain family, following every configured chain of it (the local
  // chains by default).
  ...Object.values(CHAIN_FAMILIES).map((family) => ({
    name: `listener-${family.family}`,
    args: ['listen', family.family],
    opsPort: family.listenerOpsPort,
  })),
]

/**
 * Processes that must run as one instance: the audit consumer is the audit chain's single
 * writer, a listener owns its families' durable cursors, the lag monitor is one observer.
 * They are replaced (Recreate), never scaled. The others scale by consumer group (the
 * consumers) or share their state in Postgres (the gateway: idempotency and rate limits).
 */
export function isSingleton(process: PipelineProcess): boolean {
  return (
    process.name === 'consumer-audit' ||
    process.name === 'lag-monitor' ||
    process.name.startsWith('listener-')
  )
}

/** `up --instances N` runs up to this many of each scalable process (ports below stay apart). */
export const MAX_INSTANCES = 4

/**
 * Instance n (2…MAX_INSTANCES) of a scalable process: named `<name>-<n>`, its ops port and,
 * for the gateway, its API port shifted by 100 per instance (9571, 9671, …; 18188, 18288, …):
 * free ranges beside the single-instance ports. A gateway instance names itself in its
 * metrics' `instance_id`; a consumer instance joins the same group as the first.
 */
function instanceOf(entry: PipelineProcess, n: number, gatewayPort: number): PipelineProcess {
  const shift = 100 * (n - 1)
  const opsPort = entry.opsPort + shift
  const name = `${entry.name}-${n}`
  if (entry.name !== 'gateway')
    return { name, args: [...entry.args, '--ops-port', String(opsPort)], opsPort, instanceOf: entry.name }
  return {
    name,
    args: [...entry.args, '--ops-port', String(opsPort), '--port', String(gatewayPort + shift)],
    opsPort,
    env: { VERIDIS_GATEWAY_INSTANCE_ID: name },
    instanceOf: entry.name,
  }
}

/** The processes `up --instances N` runs: N of each scalable one, one of each singleton. */
export function pipelineProcesses(context: StackContext, instances: number): PipelineProcess[] {
  if (!Number.isInteger(instances) || instances < 1 || instances > MAX_INSTANCES)
    throw new Error(`--instances takes a whole number from 1 to ${MAX_INSTANCES}, not ${instances}`)
  return PIPELINE_PROCESSES.flatMap((entry) =>
    isSingleton(entry)
      ? [entry]
      : [
          entry,
          ...Array.from({ length: instances - 1 }, (_, i) =>
            instanceOf(entry, i + 2, context.config.gateway.port),
          ),
        ],
  )
}

/** How many instances run now: the highest instance number with a live process, else 1. */
function runningInstances(context: StackContext): number {
  for (let n = MAX_INSTANCES; n > 1; n -= 1)
    if (
      pipelineProcesses(context, n).some(
        (entry) => entry.name.endsWith(`-${n}`) && runningPid(proc(context, entry)),
      )
    )
      return n
  return 1
}

const proc = (context: StackContext, process: PipelineProcess) =>
  managedProcess(context.layout.runDir, context.layout.logDir, process.name)

/** How to start the CLI again as a child: same node, same TypeScript loader. */
export function cliCommand(args: readonly string[]): { command: string; args: string[] } {
  return tsCommand('cli/main.ts', args)
}

/** A TypeScript entry point of the project (relative to its root) as a child process. */
export function tsCommand(entry: string, args: readonly string[]): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: [...tsNodeFlags(), path.join(PROJECT_ROOT, entry), ...args],
  }
}

/** A cap, not an expectation, for every pipeline process to answer /ready. */
const PIPELINE_READY_MS = 240_000

const isReady = (port: number) => httpOk(`http://127.0.0.1:${port}/ready`)

/**
 * Starts what is not running of `instances` of each scalable process (default: as many as run
 * now) and waits until each answers /ready; instances beyond that number are stopped.
 */
export async function pipelineUp(context: StackContext, instances?: number): Promise<PipelineProcess[]> {
  const wanted = pipelineProcesses(context, instances ?? runningInstances(context))
  const names = new Set(wanted.map((entry) => entry.name))
  for (const extra of pipelineProcesses(context, MAX_INSTANCES).filter((entry) => !names.has(entry.name))) {
    if (runningPid(proc(context, extra)))
      context.progress(`${extra.name}: ${await stopProcess(proc(context, extra))} (scaled down)`)
  }
  for (const entry of wanted) {
    const managed = proc(context, entry)
    if (runningPid(managed)) {
      context.progress(`${entry.name}: already running`)
      continue
    }
    startDetached(managed, {
      ...cliCommand(entry.args),
      cwd: PROJECT_ROOT,
      ...(entry.env ? { env: { ...process.env, ...entry.env } } : {}),
    })
  }
  // One cap for them all, from when they were started together: on two cores a dozen Node
  // processes starting at once (load ~38) took 84 s before the first was ready.
  const deadline = Date.now() + PIPELINE_READY_MS
  for (const entry of wanted) {
    const managed = proc(context, entry)
    while (!(await isReady(entry.opsPort))) {
      if (!runningPid(managed))
        throw new Error(`${entry.name} exited during start-up:\n${tailLog(managed.logFile)}`)
      if (Date.now() > deadline)
        throw new Error(
          `${entry.name} not ready ${PIPELINE_READY_MS / 1000} s after the pipeline started; see ${managed.logFile}`,
        )
      await sleep(250)
    }
    context.progress(`${entry.name}: ready (ops http://127.0.0.1:${entry.opsPort}/metrics)`)
  }
  return wanted
}

/**
 * What the local Prometheus scrapes: every pipeline process — the instances of one in one job
 * — and the registry's own metrics.
 */
export function scrapeTargets(
  context: StackContext,
  processes: readonly PipelineProcess[] = PIPELINE_PROCESSES,
): ScrapeTarget[] {
  return [
    ...processes.map((entry) => ({
      job: entry.instanceOf ?? entry.name,
      url: `http://127.0.0.1:${entry.opsPort}/metrics`,
    })),
    { job: 'schema-registry', url: `http://127.0.0.1:${context.layout.ports.registryManagement}/metrics` },
  ]
}

const prometheusProcess = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, 'prometheus')

/**
 * Prometheus with the project's rules, scraping the pipeline (http://127.0.0.1:19090). One
 * already running keeps its targets: `down` first to scrape a different number of instances.
 */
export async function prometheusUp(
  context: StackContext,
  processes: readonly PipelineProcess[] = PIPELINE_PROCESSES,
): Promise<void> {
  await ensurePrometheus(context.progress)
  if (runningPid(prometheusProcess(context))) {
    context.progress('prometheus: already running')
    return
  }
  const started = Date.now()
  await startPrometheus({
    dataDir: path.join(context.layout.dataDir, 'prometheus'),
    runDir: context.layout.runDir,
    logDir: context.layout.logDir,
    targets: scrapeTargets(context, processes),
    scrapeIntervalSeconds: 5,
  })
  context.progress(
    `prometheus: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (http://127.0.0.1:${PROMETHEUS_PORT})`,
  )
}

export async function pipelineDown(context: StackContext): Promise<void> {
  context.progress(`prometheus: ${await stopProcess(prometheusProcess(context))}`)
  for (const entry of [...pipelineProcesses(context, runningInstances(context))].reverse()) {
    context.progress(`${entry.name}: ${await stopProcess(proc(context, entry))}`)
  }
}

export async function pipelineStatus(context: StackContext) {
  const prometheusPid = runningPid(prometheusProcess(context))
  const prometheus = {
    name: 'prometheus',
    pid: prometheusPid,
    healthy: prometheusPid !== undefined && (await httpOk(`http://127.0.0.1:${PROMETHEUS_PORT}/-/ready`)),
    detail: `http://127.0.0.1:${PROMETHEUS_PORT}`,
    log: prometheusProcess(context).logFile,
  }
  const processes = await Promise.all(
    pipelineProcesses(context, runningInstances(context)).map(async (entry) => {
      const pid = runningPid(proc(context, entry))
      return {
        name: entry.name,
        pid,
        healthy: pid !== undefined && (await isReady(entry.opsPort)),
        detail: `ops :${entry.opsPort}`,
        log: proc(context, entry).logFile,
      }
    }),
  )
  return [...processes, prometheus]
}
