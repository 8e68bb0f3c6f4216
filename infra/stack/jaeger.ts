import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { sleep } from '../../core/bus/retry.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import {
  httpOk,
  type ManagedProcess,
  managedProcess,
  runningPid,
  startDetached,
  stopProcess,
  tailLog,
} from './process.ts'
import type { StackContext, StackService } from './service.ts'

/**
 * The trace collector: Jaeger v2 (an OpenTelemetry Collector distribution with an in-memory
 * store) built from the Go module proxy by infra/stack/native/build.sh (~25 minutes on two
 * cores the first time, then cached under ~/.cache/veridis/native), run on loopback with
 * infra/tracing/jaeger.yaml: OTLP/HTTP in on 4318, the query API and UI on 16686. Not one of
 * the default stack services: `up --tracing` starts it (docs/operations.md, Tracing).
 */
export const JAEGER_VERSION = 'v1.76.0'
export const JAEGER_PORTS = { otlp: 4318, query: 16686, grpc: 16685 } as const
type JaegerPorts = { readonly otlp: number; readonly query: number; readonly grpc: number }

const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'build.sh')
const CONFIG = path.join(PROJECT_ROOT, 'infra', 'tracing', 'jaeger.yaml')
const READY_TIMEOUT_MS = 60_000

export function jaegerBinaryPath(cacheDir: string): string {
  return path.join(cacheDir, 'native', `jaeger-${JAEGER_VERSION}`, 'bin', 'jaeger')
}

/** The binary: from the machine's cache, or built now (the script holds a lock: one build at a time). */
export function ensureJaegerBinary(cacheDir: string, progress: (line: string) => void): Promise<string> {
  const cached = jaegerBinaryPath(cacheDir)
  if (existsSync(cached)) return Promise.resolve(cached)
  progress(`jaeger: building ${JAEGER_VERSION} from the Go module proxy (~25 minutes on two cores)`)
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [BUILD_SCRIPT, 'jaeger'],
      { env: { ...process.env, VERIDIS_CACHE: cacheDir }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) reject(new Error(`building jaeger failed: ${error.message.split('\n')[0]}`))
        else resolve(stdout.trim().split('\n').at(-1)!)
      },
    )
  })
}

/** infra/tracing/jaeger.yaml with its loopback ports replaced (tests run one on free ports). */
export function renderJaegerConfig(ports: JaegerPorts): string {
  const text = readFileSync(CONFIG, 'utf8')
  const replaced = text
    .replaceAll(`127.0.0.1:${JAEGER_PORTS.otlp}`, `127.0.0.1:${ports.otlp}`)
    .replaceAll(`127.0.0.1:${JAEGER_PORTS.query}`, `127.0.0.1:${ports.query}`)
    .replaceAll(`127.0.0.1:${JAEGER_PORTS.grpc}`, `127.0.0.1:${ports.grpc}`)
  for (const port of Object.values(JAEGER_PORTS)) {
    if (!text.includes(`endpoint: 127.0.0.1:${port}`))
      throw new Error(`${CONFIG} no longer names port ${port}`)
  }
  return replaced
}

export interface RunningJaeger {
  /** Base URL for VERIDIS_OTLP_ENDPOINT. */
  readonly otlpUrl: string
  /** Base URL of the query API (`/api/traces/<trace id>`) and the UI. */
  readonly queryUrl: string
  readonly pid: number
  stop(): Promise<'stopped' | 'killed' | 'not running'>
}

function spawnJaeger(proc: ManagedProcess, binary: string, runDir: string, ports: JaegerPorts): number {
  mkdirSync(runDir, { recursive: true })
  const configFile = path.join(runDir, `${proc.name}.yaml`)
  writeFileSync(configFile, renderJaegerConfig(ports))
  return startDetached(proc, {
    command: binary,
    args: ['--config', configFile],
    cwd: runDir,
    // Its query service traces itself to 127.0.0.1:4317, where nothing listens; on SIGTERM it
    // then spent 10 s retrying those spans before exiting. Sampled off, there are none.
    env: { ...process.env, OTEL_TRACES_SAMPLER: 'always_off' },
  })
}

async function waitReady(proc: ManagedProcess, queryUrl: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!(await httpOk(`${queryUrl}/api/services`))) {
    if (!runningPid(proc)) throw new Error(`jaeger exited during start-up:\n${tailLog(proc.logFile)}`)
    if (Date.now() > deadline) {
      await stopProcess(proc, 5_000)
      throw new Error(`jaeger not ready after ${READY_TIMEOUT_MS / 1000} s:\n${tailLog(proc.logFile)}`)
    }
    await sleep(200)
  }
}

/** Starts Jaeger detached on the given loopback ports and resolves once its query API answers. */
export async function startJaeger(options: {
  readonly binary: string
  readonly runDir: string
  readonly logDir: string
  readonly ports: JaegerPorts
  readonly name?: string
}): Promise<RunningJaeger> {
  const proc = managedProcess(options.runDir, options.logDir, options.name ?? 'jaeger')
  const running = runningPid(proc)
  if (running) throw new Error(`jaeger is already running (pid ${running}, ${proc.pidFile}); stop it first`)
  const pid = spawnJaeger(proc, options.binary, options.runDir, options.ports)
  const queryUrl = `http://127.0.0.1:${options.ports.query}`
  await waitReady(proc, queryUrl)
  return {
    otlpUrl: `http://127.0.0.1:${options.ports.otlp}`,
    queryUrl,
    pid,
    stop: () => stopProcess(proc, 10_000),
  }
}

const proc = (context: StackContext) => managedProcess(context.layout.runDir, context.layout.logDir, 'jaeger')

/** Jaeger as a service of the local stack, on its fixed loopback ports; started only on request. */
export const jaegerService: StackService = {
  name: 'jaeger',
  async install(context) {
    await ensureJaegerBinary(context.layout.cacheDir, context.progress)
  },
  async start(context) {
    if (runningPid(proc(context))) return 'already running'
    spawnJaeger(proc(context), jaegerBinaryPath(context.layout.cacheDir), context.layout.runDir, JAEGER_PORTS)
    return 'started'
  },
  isHealthy: () => httpOk(`http://127.0.0.1:${JAEGER_PORTS.query}/api/services`),
  stop: (context) => stopProcess(proc(context), 10_000),
  pid: (context) => runningPid(proc(context)),
  describe: () =>
    `OTLP/HTTP http://127.0.0.1:${JAEGER_PORTS.otlp}, traces http://127.0.0.1:${JAEGER_PORTS.query}`,
  logFile: (context) => proc(context).logFile,
}

/**
 * `up --tracing`: Jaeger built if missing, started if not running, waited for; returns the
 * OTLP endpoint the pipeline processes are given (VERIDIS_OTLP_ENDPOINT).
 */
export async function tracingUp(context: StackContext): Promise<string> {
  const started = Date.now()
  await jaegerService.install(context)
  const outcome = await jaegerService.start(context)
  await waitReady(proc(context), `http://127.0.0.1:${JAEGER_PORTS.query}`)
  context.progress(
    `jaeger: ${outcome === 'started' ? `ready in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'already running'} (${jaegerService.describe(context)})`,
  )
  return `http://127.0.0.1:${JAEGER_PORTS.otlp}`
}
