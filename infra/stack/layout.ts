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
/**
 * One KRaft node of the local Kafka (broker and controller in one JVM). The nodes are the
 * configured brokers in order: node 1 is the first of VERIDIS_KAFKA_BROKERS, and node i's
 * controller listens on VERIDIS_KAFKA_CONTROLLER_PORT + 2(i − 1), which with the brokers
 * `up --brokers N` names (19092, 19094, …) interleaves: 19093, 19095, …
 */
export interface KafkaNode {
  readonly id: number
  readonly port: number
  readonly controllerPort: number
}

export interface StackLayout {
  readonly home: string
  readonly runDir: string
  readonly logDir: string
  readonly dataDir: string
  readonly secretsDir: string
  readonly cacheDir: string
  /** One node per configured broker: a single broker by default, a cluster with `--brokers N`. */
  readonly kafkaNodes: readonly KafkaNode[]
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

function kafkaNodes(config: Config): KafkaNode[] {
  const nodes = config.kafka.brokers.map((broker, index) => {
    const [host, port] = broker.split(':') as [string, string]
    requireLoopback('VERIDIS_KAFKA_BROKERS', host)
    return { id: index + 1, port: Number(port), controllerPort: config.kafka.controllerPort + 2 * index }
  })
  if (nodes.length === 0) throw new Error('VERIDIS_KAFKA_BROKERS is empty')
  const ports = nodes.flatMap((node) => [node.port, node.controllerPort])
  const repeated = ports.filter((port, index) => ports.indexOf(port) !== index)
  if (repeated.length > 0) {
    throw new Error(
      `the local Kafka nodes would share port ${repeated.join(', ')}: node i listens on its broker port and on VERIDIS_KAFKA_CONTROLLER_PORT + 2(i - 1); choose brokers apart from those`,
    )
  }
  return nodes
}

export function stackLayout(config: Config, env: NodeJS.ProcessEnv = process.env): StackLayout {
  const nodes = kafkaNodes(config)
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
    kafkaNodes: nodes,
    ports: {
      kafka: nodes[0]!.port,
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
