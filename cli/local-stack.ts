import { loadConfig } from '../core/config/env.ts'
import { createLogger } from '../core/logging/logger.ts'
import { stackContext } from '../infra/stack/stack.ts'
import { progress } from './progress.ts'

/** The local stack as the commands that run it see it: configuration, stack context, a quiet logger. */
export function localContext() {
  const config = loadConfig()
  return {
    config,
    context: stackContext(config, progress),
    logger: createLogger({ service: 'cli', level: config.logLevel === 'info' ? 'warn' : config.logLevel }),
  }
}

export function printTable(
  rows: readonly { name: string; pid: number | undefined; healthy: boolean; detail: string }[],
) {
  const nameWidth = Math.max(20, ...rows.map((row) => row.name.length + 1))
  for (const row of rows) {
    const state = row.pid === undefined ? 'stopped' : row.healthy ? 'healthy' : 'unhealthy'
    process.stdout.write(
      `${row.name.padEnd(nameWidth)} ${state.padEnd(10)} ${String(row.pid ?? '-').padEnd(8)} ${row.detail}\n`,
    )
  }
}
