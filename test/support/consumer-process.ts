import { type ChildProcess, spawn } from 'node:child_process'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { cliCommand } from '../../infra/stack/pipeline.ts'
import { collectOutput, eventually, freePort, PROCESS_READY_MS, testEnv } from './harness.ts'

/** `veridis consume <name>` as a real child process in a test namespace, ready when it answers /ready. */
export interface ConsumerProcess {
  readonly child: ChildProcess
  readonly opsPort: number
  output(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal?: NodeJS.Signals): Promise<void>
  metrics(): Promise<string>
}

export async function startConsumerProcess(options: {
  readonly name: string
  readonly namespace: string
  readonly env?: NodeJS.ProcessEnv
}): Promise<ConsumerProcess> {
  const opsPort = await freePort()
  const command = cliCommand(['consume', options.name, '--ops-port', String(opsPort)])
  const child = spawn(command.command, command.args, {
    cwd: PROJECT_ROOT,
    env: {
      ...testEnv(options.namespace),
      VERIDIS_LOG_LEVEL: 'info',
      // A killed member's partitions move to its successor after this, not after 30 s.
      VERIDIS_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = collectOutput(child)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const consumer: ConsumerProcess = {
    child,
    opsPort,
    output,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      await exited
    },
    metrics: async () => (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text(),
  }
  await eventually(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) return true
      try {
        return (await fetch(`http://127.0.0.1:${opsPort}/ready`)).ok ? true : undefined
      } catch {
        return undefined
      }
    },
    PROCESS_READY_MS,
    `${options.name} consumer ready`,
  )
  return consumer
}
