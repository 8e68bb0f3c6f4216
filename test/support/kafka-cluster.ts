import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { sleep } from '../../core/bus/retry.ts'
import { loadConfig } from '../../core/config/env.ts'
import { kafkaNodeProcess, kafkaService } from '../../infra/stack/kafka.ts'
import type { KafkaNode } from '../../infra/stack/layout.ts'
import { isAlive, runningPid, stopProcess } from '../../infra/stack/process.ts'
import type { StackContext } from '../../infra/stack/service.ts'
import { stackContext } from '../../infra/stack/stack.ts'
import { eventually } from './harness.ts'

/**
 * A Kafka cluster of its own for a test, started by the stack's own code (`kafkaService`,
 * the same as `up --brokers N`) beside the shared single broker: its own directory and
 * ports, the shared stack's registry and Postgres. Brokers on 29092, 29094, …, controllers
 * on the odd ports after them.
 */
export interface TestKafkaCluster {
  readonly context: StackContext
  readonly nodes: readonly KafkaNode[]
  /** VERIDIS_* variables that point a process (or openTestBus) at this cluster. */
  readonly env: Record<string, string>
  /** Node ids by partition of a topic: its current leader, replicas and in-sync replicas. */
  partitions(
    topic: string,
  ): Promise<{ partition: number; leader: number; replicas: number[]; isr: number[] }[]>
  /** SIGKILL, no warning: the node's open requests and unflushed writes are lost with it. */
  kill(node: KafkaNode): Promise<void>
  /** SIGTERM: a controlled shutdown, leadership handed over first. */
  stop(node: KafkaNode): Promise<void>
  /** Starts every node that is not running, and waits until each is a broker again. */
  startMissing(): Promise<void>
  /** Waits until every partition of the topics has all its replicas in sync. */
  untilFullyReplicated(topics: readonly string[], timeoutMs?: number): Promise<void>
  down(): Promise<void>
}

const FIRST_PORT = 29_092

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

export async function startKafkaCluster(size = 3): Promise<TestKafkaCluster> {
  const ports = Array.from({ length: size * 2 }, (_, i) => FIRST_PORT + i)
  for (const port of ports) {
    if (await portInUse(port))
      throw new Error(`port ${port} is in use: the test cluster needs ${ports[0]}–${ports.at(-1)} free`)
  }
  const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-cluster-'))
  const env = {
    VERIDIS_KAFKA_BROKERS: Array.from({ length: size }, (_, i) => `127.0.0.1:${FIRST_PORT + 2 * i}`).join(
      ',',
    ),
    VERIDIS_KAFKA_CONTROLLER_PORT: String(FIRST_PORT + 1),
    VERIDIS_TOPIC_REPLICATION: String(Math.min(size, 3)),
    VERIDIS_TOPIC_MIN_INSYNC_REPLICAS: String(Math.max(1, Math.min(size, 3) - 1)),
  }
  const progress = (message: string) => process.stderr.write(`[cluster] ${message}\n`)
  const context = stackContext(loadConfig({ ...process.env, ...env, VERIDIS_HOME: home }), progress)
  const nodes = context.layout.kafkaNodes
  const admin = () =>
    new Kafka({
      clientId: 'veridis-test-cluster',
      brokers: nodes.map((node) => `127.0.0.1:${node.port}`),
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      logLevel: logLevel.NOTHING,
    }).admin()

  const untilBrokers = async () => {
    await eventually(
      async () => ((await kafkaService.isHealthy(context)) ? true : undefined),
      180_000,
      `all ${size} brokers registered`,
    )
  }

  await kafkaService.install(context)
  await kafkaService.start(context)
  await untilBrokers()

  const cluster: TestKafkaCluster = {
    context,
    nodes,
    env,
    async partitions(topic) {
      const client = admin()
      await client.connect()
      try {
        const metadata = await client.fetchTopicMetadata({ topics: [topic] })
        return metadata.topics[0]!.partitions.map((partition) => ({
          partition: partition.partitionId,
          leader: partition.leader,
          replicas: partition.replicas,
          isr: partition.isr,
        }))
      } finally {
        await client.disconnect()
      }
    },
    async kill(node) {
      const pid = runningPid(kafkaNodeProcess(context, node))
      if (pid === undefined) throw new Error(`kafka node ${node.id} is not running`)
      process.kill(pid, 'SIGKILL')
      while (isAlive(pid)) await sleep(50)
    },
    async stop(node) {
      await stopProcess(kafkaNodeProcess(context, node))
    },
    async startMissing() {
      await kafkaService.start(context)
      await untilBrokers()
    },
    async untilFullyReplicated(topics, timeoutMs = 120_000) {
      await eventually(
        async () => {
          for (const topic of topics) {
            const partitions = await cluster.partitions(topic)
            if (partitions.some((partition) => partition.isr.length < partition.replicas.length))
              return undefined
          }
          return true
        },
        timeoutMs,
        `every replica of ${topics.join(', ')} in sync`,
      )
    },
    async down() {
      await kafkaService.stop(context)
      rmSync(home, { recursive: true, force: true })
    },
  }
  return cluster
}
