import { loadConfig } from '../core/config/env.ts'
import { kafkaLocalDefaults } from '../core/config/kafka.ts'
import { createLogger } from '../core/logging/logger.ts'
import { clusterReplication } from '../infra/stack/kafka.ts'
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

/**
 * `--brokers N`: the local Kafka as N KRaft nodes on 19092, 19094, … with topics replicated
 * on min(N, 3) of them and one fewer in sync — set in this process's environment, so the
 * configuration and every process `up` starts see it. Returns the variables, for other
 * shells to export. A conflicting variable already set is an error, not overridden.
 */
export function useLocalBrokers(count: number): Record<string, string> {
  if (!Number.isInteger(count) || count < 1 || count > 9)
    throw new Error(`--brokers takes a whole number from 1 to 9, not ${count}`)
  const firstPort = Number(kafkaLocalDefaults.VERIDIS_KAFKA_BROKERS.split(':')[1])
  const { replication, minInsyncReplicas } = clusterReplication(count)
  const wanted: Record<string, string> = {
    VERIDIS_KAFKA_BROKERS: Array.from({ length: count }, (_, i) => `127.0.0.1:${firstPort + 2 * i}`).join(
      ',',
    ),
    VERIDIS_TOPIC_REPLICATION: String(replication),
    VERIDIS_TOPIC_MIN_INSYNC_REPLICAS: String(minInsyncReplicas),
  }
  for (const [name, value] of Object.entries(wanted)) {
    const set = process.env[name]
    if (set !== undefined && set !== value)
      throw new Error(`--brokers ${count} needs ${name}=${value}, but the environment sets ${name}=${set}`)
    process.env[name] = value
  }
  return wanted
}

export const parseBrokerCount = (value: string) => Number(value)
