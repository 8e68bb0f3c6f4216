import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { type KafkaNode, pinHash } from './layout.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import { run } from './run.ts'
import type { StackContext, StackService } from './service.ts'
import { ensureJava, ensureMaven } from './system.ts'

/** Apache Kafka 3.9 in KRaft combined mode, from Maven Central jars (infra/kafka/RECIPE.md). */
const POM = 'infra/kafka/pom.xml'
const JVM_FLAGS = ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError']

const libsDir = (context: StackContext) => path.join(context.layout.cacheDir, `kafka-${pinHash(POM)}`, 'libs')

/** More than one configured broker: the local Kafka runs as a cluster of that many KRaft nodes. */
const clustered = (context: StackContext) => context.layout.kafkaNodes.length > 1

/**
 * Where the nodes keep their logs: the single broker where it always has, a cluster apart
 * (by size, since a cluster formatted for three voters cannot start as two), so switching
 * between the modes never mixes their data.
 */
const stateDir = (context: StackContext) =>
  clustered(context)
    ? path.join(context.layout.dataDir, `kafka-cluster-${context.layout.kafkaNodes.length}`)
    : path.join(context.layout.dataDir, 'kafka')

const nodeDir = (context: StackContext, node: KafkaNode) =>
  clustered(context) ? path.join(stateDir(context), `node-${node.id}`) : stateDir(context)

const nodeName = (context: StackContext, node: KafkaNode) =>
  clustered(context) ? `kafka-${node.id}` : 'kafka'

/** The managed process of one Kafka node (tests kill and restart nodes through it). */
export const kafkaNodeProcess = (context: StackContext, node: KafkaNode) =>
  managedProcess(context.layout.runDir, context.layout.logDir, nodeName(context, node))

/** Node processes recorded in the run directory, of either mode (`down` stops what runs). */
function recordedNodeProcesses(context: StackContext) {
  if (!existsSync(context.layout.runDir)) return []
  return readdirSync(context.layout.runDir)
    .map((file) => /^(kafka(?:-\d+)?)\.pid$/.exec(file)?.[1])
    .filter((name): name is string => name !== undefined)
    .map((name) => managedProcess(context.layout.runDir, context.layout.logDir, name))
}

function log4jFlags(context: StackContext, logName = 'kafka-broker'): string[] {
  return [
    `-Dlog4j.configuration=file:${path.join(PROJECT_ROOT, 'infra/kafka/log4j.properties')}`,
    `-Dkafka.logs.dir=${path.join(context.layout.logDir, logName)}`,
  ]
}

function classpath(context: StackContext): string {
  return `${libsDir(context)}/*`
}

/** Fills `${NAME}` placeholders; an unknown placeholder is an error, not an empty string. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (_match, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`template placeholder \${${name}} has no value`)
    return value
  })
}

/**
 * Replication of the broker's internal topics (consumer offsets, transaction state): every
 * node up to three, and one fewer in sync, so a cluster of three keeps committing offsets
 * and transactions with a node down. The application's topics take theirs from
 * VERIDIS_TOPIC_REPLICATION / _MIN_INSYNC_REPLICAS, which `--brokers N` sets the same way.
 */
export function clusterReplication(nodes: number): { replication: number; minInsyncReplicas: number } {
  const replication = Math.min(nodes, 3)
  return { replication, minInsyncReplicas: Math.max(1, replication - 1) }
}

function nodeProperties(context: StackContext, node: KafkaNode, dataDir: string): string {
  const nodes = context.layout.kafkaNodes
  const { replication, minInsyncReplicas } = clusterReplication(nodes.length)
  return renderTemplate(
    readFileSync(path.join(PROJECT_ROOT, 'infra/kafka/server.properties.template'), 'utf8'),
    {
      KAFKA_PORT: String(node.port),
      CONTROLLER_PORT: String(node.controllerPort),
      DATA_DIR: dataDir,
      NODE_ID: String(node.id),
      QUORUM_VOTERS: nodes.map((voter) => `${voter.id}@127.0.0.1:${voter.controllerPort}`).join(','),
      REPLICATION: String(replication),
      MIN_INSYNC_REPLICAS: String(minInsyncReplicas),
    },
  )
}

/**
 * A KRaft cluster id: 16 random bytes in base64url, as Kafka's own `Uuid.randomUuid` makes
 * them, and like it never one that starts with '-'. The id is a command-line argument of
 * `kafka-storage format -t`, whose parser takes such a value for an option and fails: one
 * fresh format in 64 (CI, 2026-12-03: test/stack/data-permissions.test.ts).
 */
export function newKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

/** Every node formats its storage with the same cluster id, kept beside the nodes' data. */
function clusterId(context: StackContext): string {
  const file = path.join(stateDir(context), 'cluster-id')
  if (!existsSync(file)) writeFileSync(file, `${newKafkaClusterId()}\n`, { mode: 0o600 })
  return readFileSync(file, 'utf8').trim()
}

/** Refuses to start one mode while the other runs on the same ports and directories. */
function refuseOtherMode(context: StackContext) {
  const wanted = new Set(context.layout.kafkaNodes.map((node) => nodeName(context, node)))
  const other = recordedNodeProcesses(context).filter((proc) => !wanted.has(proc.name) && runningPid(proc))
  if (other.length === 0) return
  throw new Error(
    `Kafka runs as ${other.map((proc) => proc.name).join(', ')}, not the ${context.layout.kafkaNodes.length} node(s) this configuration names: stop it first (bin/veridis down), then bring the stack up again`,
  )
}

async function startNode(context: StackContext, node: KafkaNode): Promise<boolean> {
  // Before the running check, so `up` also tightens the directories of a running broker.
  const dir = ensurePrivateDir(nodeDir(context, node))
  const dataDir = ensurePrivateDir(path.join(dir, 'log-dirs'))
  const proc = kafkaNodeProcess(context, node)
  if (runningPid(proc)) return false
  const propertiesFile = path.join(dir, 'server.properties')
  writeFileSync(propertiesFile, nodeProperties(context, node, dataDir))
  const logName = clustered(context) ? `kafka-broker-${node.id}` : 'kafka-broker'
  if (!existsSync(path.join(dataDir, 'meta.properties'))) {
    context.progress(`${proc.name}: formatting storage (KRaft)`)
    await run('java', [
      '-Xmx256m',
      ...log4jFlags(context, logName),
      '-cp',
      classpath(context),
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clustered(context) ? clusterId(context) : newKafkaClusterId(),
      '-c',
      propertiesFile,
    ])
  }
  startDetached(proc, {
    command: 'java',
    args: [
      ...JVM_FLAGS,
      ...log4jFlags(context, logName),
      '-cp',
      classpath(context),
      'kafka.Kafka',
      propertiesFile,
    ],
    cwd: dir,
  })
  return true
}

/** A short-lived admin client on the given nodes (all by default), for probes and reports. */
function probeAdmin(context: StackContext, nodes: readonly KafkaNode[] = context.layout.kafkaNodes) {
  return new Kafka({
    clientId: 'veridis-stack-probe',
    brokers: nodes.map((node) => `127.0.0.1:${node.port}`),
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin()
}

export const kafkaService: StackService = {
  name: 'kafka',
  logFile: (context) => kafkaNodeProcess(context, context.layout.kafkaNodes[0]!).logFile,

  async install(context) {
    await ensureJava(context.progress)
    const libs = libsDir(context)
    if (existsSync(path.join(libs, '.complete'))) return
    await ensureMaven(context.progress)
    context.progress(`kafka: collecting broker jars from Maven Central into ${libs}`)
    mkdirSync(libs, { recursive: true })
    await run(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        path.join(PROJECT_ROOT, POM),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${libs}`,
        '-DincludeScope=runtime',
      ],
      { progress: true },
    )
    const jars = readdirSync(libs).filter((name) => name.endsWith('.jar'))
    if (!jars.some((name) => name.startsWith('kafka_2.13-')))
      throw new Error(`kafka jars missing in ${libs} after mvn`)
    writeFileSync(path.join(libs, '.complete'), `${jars.length} jars\n`)
  },

  async start(context) {
    refuseOtherMode(context)
    ensurePrivateDir(stateDir(context))
    let started = false
    for (const node of context.layout.kafkaNodes) started = (await startNode(context, node)) || started
    return started ? 'started' : 'already running'
  },

  /** Healthy once every configured node is a registered broker and the quorum has a leader. */
  async isHealthy(context) {
    const admin = probeAdmin(context)
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      return cluster.brokers.length === context.layout.kafkaNodes.length && cluster.controller !== null
    } catch {
      return false
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  },

  async stop(context) {
    // Last node first: the others keep the quorum while each one shuts down cleanly.
    const outcomes: string[] = []
    for (const proc of recordedNodeProcesses(context).reverse())
      outcomes.push(`${proc.name} ${await stopProcess(proc)}`)
    return outcomes.length > 0 ? outcomes.join(', ') : 'not running'
  },
  pid: (context) =>
    context.layout.kafkaNodes.map((node) => runningPid(kafkaNodeProcess(context, node))).find((pid) => pid),
  describe: (context) =>
    `bootstrap ${context.layout.kafkaNodes.map((node) => `127.0.0.1:${node.port}`).join(',')}, data ${stateDir(context)}`,
}

export interface KafkaNodeStatus {
  readonly name: string
  readonly pid: number | undefined
  readonly healthy: boolean
  readonly detail: string
  readonly log: string
}

/**
 * One line per node of a cluster, for `status`: its process, whether the cluster counts it
 * as a broker, and how many partition leaders it holds (with the under-replicated count),
 * read from the cluster's metadata.
 */
export async function kafkaNodeStatus(context: StackContext): Promise<KafkaNodeStatus[]> {
  const registered = new Set<number>()
  const leaders = new Map<number, number>()
  let underReplicated = 0
  let controller: number | null = null
  // Asked of one running node at a time: a probe that may start at a dead node gets no answer.
  const running = context.layout.kafkaNodes.filter((node) => runningPid(kafkaNodeProcess(context, node)))
  for (const node of running) {
    const admin = probeAdmin(context, [node])
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      controller = cluster.controller
      for (const broker of cluster.brokers) registered.add(broker.nodeId)
      const { topics } = await admin.fetchTopicMetadata()
      for (const partition of topics.flatMap((topic) => topic.partitions)) {
        leaders.set(partition.leader, (leaders.get(partition.leader) ?? 0) + 1)
        if (partition.isr.length < partition.replicas.length) underReplicated += 1
      }
      break
    } catch {
      // This node did not answer: the next one may.
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }
  return context.layout.kafkaNodes.map((node) => {
    const proc = kafkaNodeProcess(context, node)
    const pid = runningPid(proc)
    return {
      name: proc.name,
      pid,
      healthy: pid !== undefined && registered.has(node.id),
      detail: `127.0.0.1:${node.port} node ${node.id}${controller === node.id ? ' (active controller)' : ''}, leads ${leaders.get(node.id) ?? 0} partitions; ${underReplicated} under-replicated in the cluster`,
      log: proc.logFile,
    }
  })
}

/** Runs a Kafka tool class from the same jars, e.g. the consumer-group command. */
export async function runKafkaTool(
  context: StackContext,
  mainClass: string,
  args: readonly string[],
): Promise<string> {
  return run('java', [
    '-Xmx256m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    ...log4jFlags(context),
    '-cp',
    classpath(context),
    mainClass,
    ...args,
  ])
}
