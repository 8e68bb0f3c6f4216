import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Config } from '../../core/config/env.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'

/**
 * Where the local stack keeps things. Per-checkout state (data, logs, pid files) lives
 * under VERIDIS_HOME (default `.veridis/` in the checkout); downloaded software is cached
 * per machine under VERIDIS_CACHE_DIR (default `~/.cache/veridis`), keyed by a hash of the
 * file that pins its version, so a new clone or a CI run reuses it and a version bump
 * installs afresh.
 */
export interface StackLayout {
  readonly home: string
  readonly runDir: string
  readonly logDir: string
  readonly dataDir: string
  readonly secretsDir: string
  readonly cacheDir: string
  readonly ports: {
    kafka: number
    controller: number
    registry: number
    registryManagement: number
    postgres: number
  }
}

function portOf(url: string, fallback: number): number {
  const port = new URL(url).port
  return port ? Number(port) : fallback
}

function requireLoopback(what: string, host: string) {
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) {
    throw new Error(`${what} points at ${host}; the local stack only runs on loopback (127.0.0.1)`)
  }
}

export function stackLayout(config: Config, env: NodeJS.ProcessEnv = process.env): StackLayout {
  const [broker] = config.kafka.brokers
  if (!broker) throw new Error('VERIDIS_KAFKA_BROKERS is empty')
  const [kafkaHost, kafkaPort] = broker.split(':') as [string, string]
  requireLoopback('VERIDIS_KAFKA_BROKERS', kafkaHost)
  requireLoopback('VERIDIS_SCHEMA_REGISTRY_URL', new URL(config.schemaRegistry.url).hostname)
  requireLoopback('VERIDIS_DATABASE_URL', new URL(config.database.url).hostname)
  const registry = portOf(config.schemaRegistry.url, 80)
  return {
    home: config.home,
    runDir: path.join(config.home, 'run'),
    logDir: path.join(config.home, 'logs'),
    dataDir: path.join(config.home, 'data'),
    secretsDir: path.join(config.home, 'secrets'),
    cacheDir: path.resolve(env.VERIDIS_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'veridis')),
    ports: {
      kafka: Number(kafkaPort),
      controller: config.kafka.controllerPort,
      registry,
      registryManagement: registry + 1,
      postgres: portOf(config.database.url, 5432),
    },
  }
}

/** Short content hash of the files that pin a component's version. */
export function pinHash(...relativeFiles: string[]): string {
  const hash = createHash('sha256')
  for (const file of relativeFiles) hash.update(readFileSync(path.join(PROJECT_ROOT, file)))
  return hash.digest('hex').slice(0, 12)
}
