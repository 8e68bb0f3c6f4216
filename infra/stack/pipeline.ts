import path from 'node:path'
import { CONSUMERS } from '../../consumers/index.ts'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { managedProcess, runningPid, startDetached, stopProcess, tailLog } from './process.ts'
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
]

const proc = (context: StackContext, process: PipelineProcess) =>
  managedProcess(context.layout.runDir, context.layout.logDir, process.name)

/** How to start the CLI again as a child: same node, same TypeScript loader. */
export function cliCommand(args: readonly string[]): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: [
      '--max-semi-space-size=32',
      '--import',
      path.join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs'),
      path.join(PROJECT_ROOT, 'cli/main.ts'),
      ...args,
    ],
  }
}

async function isReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(1_000) })
    return response.ok
  } catch {
    return false
  }
}

export async function pipelineUp(context: StackContext): Promise<void> {
  for (const entry of PIPELINE_PROCESSES) {
    const managed = proc(context, entry)
    if (runningPid(managed)) {
      context.progress(`${entry.name}: already running`)
      continue
    }
    startDetached(managed, { ...cliCommand(entry.args), cwd: PROJECT_ROOT })
  }
  for (const entry of PIPELINE_PROCESSES) {
    const managed = proc(context, entry)
    const deadline = Date.now() + 60_000
    while (!(await isReady(entry.opsPort))) {
      if (!runningPid(managed))
        throw new Error(`${entry.name} exited during start-up:\n${tailLog(managed.logFile)}`)
      if (Date.now() > deadline) throw new Error(`${entry.name} not ready after 60 s; see ${managed.logFile}`)
      await sleep(250)
    }
    context.progress(`${entry.name}: ready (ops http://127.0.0.1:${entry.opsPort}/metrics)`)
  }
}

export async function pipelineDown(context: StackContext): Promise<void> {
  for (const entry of [...PIPELINE_PROCESSES].reverse()) {
    context.progress(`${entry.name}: ${await stopProcess(proc(context, entry))}`)
  }
}

export async function pipelineStatus(context: StackContext) {
  return Promise.all(
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
}
