import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ChainFamily } from '../../core/chains.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { cliCommand } from '../../infra/stack/pipeline.ts'
import { collectOutput, freePort, testEnv } from './harness.ts'

/** `veridis listen <family>` running as a child process of a test. */
export interface ListenerProcess {
  readonly child: ChildProcess
  readonly opsPort: number
  /** Everything the process wrote so far (JSON log lines). */
  output(): string
  kill(signal?: NodeJS.Signals): Promise<void>
  metrics(): Promise<string>
  ready(): Promise<boolean>
}

const configDirs: string[] = []
// Configuration files live as long as the test process; listeners read them at start.
process.once('exit', () => {
  for (const dir of configDirs) rmSync(dir, { recursive: true, force: true })
})

/** A family's chain entries as a configuration file (VERIDIS_<FAMILY>_CONFIG), removed at exit. */
export function writeChainConfig(family: ChainFamily, entries: readonly object[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `veridis-${family}-config-`))
  configDirs.push(dir)
  const file = path.join(dir, 'chains.json')
  writeFileSync(file, JSON.stringify(entries, null, 2))
  return file
}

export interface ChainListenerOptions {
  readonly namespace: string
  /** The family's chains (writeChainConfig), as VERIDIS_<FAMILY>_CONFIG. */
  readonly configFile: string
  readonly chains: readonly string[]
  readonly env?: NodeJS.ProcessEnv
}

/** `veridis listen <family>` as a real child process in the test's namespace, on a free ops port. */
export async function startChainListener(
  family: ChainFamily,
  options: ChainListenerOptions,
): Promise<ListenerProcess> {
  const opsPort = await freePort()
  const command = cliCommand(['listen', family, '--ops-port', String(opsPort), '--chain', ...options.chains])
  const child = spawn(command.command, command.args, {
    cwd: PROJECT_ROOT,
    env: {
      ...testEnv(options.namespace),
      VERIDIS_LOG_LEVEL: 'info',
      [`VERIDIS_${family.toUpperCase()}_CONFIG`]: options.configFile,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output = collectOutput(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    opsPort,
    output,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      await exited
    },
    async metrics() {
      return (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text()
    },
    async ready() {
      try {
        return (await fetch(`http://127.0.0.1:${opsPort}/ready`)).ok
      } catch {
        return false
      }
    },
  }
}
