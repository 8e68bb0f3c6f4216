import path from 'node:path'
import { CONSUMERS } from '../../consumers/index.ts'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { CHAIN_FAMILIES } from '../../producers/chains/families.ts'
import { GATEWAY_OPS_PORT } from '../../producers/gateway/routes/ops.ts'
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
    args: [
      '--max-semi-space-size=32',
      '--import',
      path.join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs'),
      path.join(PROJECT_ROOT, entry),
      ...args,
    ],
  }
}

/** A cap, not an expectation, for every pipeline process to answer /ready. */
const PIPELINE_READY_MS = 240_000

const isReady = (port: number) => httpOk(`http://127.0.0.1:${port}/ready`)

export async function pipelineUp(context: StackContext): Promise<void> {
  for (const entry of PIPELINE_PROCESSES) {
    const managed = proc(context, entry)
    if (runningPid(managed)) {
      context.progress(`${entry.name}: already running`)
      continue
    }
    startDetached(managed, { ...cliCommand(entry.args), cwd: PROJECT_ROOT })
  }
  // One cap for them all, from when they were started together: on two cores a dozen Node
  // processes starting at once (load ~38) took 84 s before the first was ready.
  const deadline = Date.now() + PIPELINE_READY_MS
  for (const entry of PIPELINE_PROCESSES) {
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
}

/** What the local Prometheus scrapes: every pipeline process, and the registry's own metrics. */
export function scrapeTargets(
  context: StackContext,
  processes: readonly PipelineProcess[] = PIPELINE_PROCESSES,
): ScrapeTarget[] {
  return [
    ...processes.map((entry) => ({ job: entry.name, url: `http://127.0.0.1:${entry.opsPort}/metrics` })),
    { job: 'schema-registry', url: `http://127.0.0.1:${context.layout.ports.registryManagement}/metrics` },
  ]
}

const prometheusProcess = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, 'prometheus')

/** Prometheus with the project's rules, scraping the pipeline (http://127.0.0.1:19090). */
export async function prometheusUp(context: StackContext): Promise<void> {
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
    targets: scrapeTargets(context),
    scrapeIntervalSeconds: 5,
  })
  context.progress(
    `prometheus: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (http://127.0.0.1:${PROMETHEUS_PORT})`,
  )
}

export async function pipelineDown(context: StackContext): Promise<void> {
  context.progress(`prometheus: ${await stopProcess(prometheusProcess(context))}`)
  for (const entry of [...PIPELINE_PROCESSES].reverse()) {
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
    PIPELINE_PROCESSES.map(async (entry) => {
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
