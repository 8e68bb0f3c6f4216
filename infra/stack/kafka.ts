import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { pinHash } from './layout.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import { run } from './run.ts'
import type { StackContext, StackService } from './service.ts'
import { ensureJava, ensureMaven } from './system.ts'

/** Apache Kafka 3.9 in KRaft combined mode, from Maven Central jars (infra/kafka/RECIPE.md). */
const POM = 'infra/kafka/pom.xml'
const JVM_FLAGS = ['-Xms64m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:+ExitOnOutOfMemoryError']

const libsDir = (context: StackContext) => path.join(context.layout.cacheDir, `kafka-${pinHash(POM)}`, 'libs')
const stateDir = (context: StackContext) => path.join(context.layout.dataDir, 'kafka')
const proc = (context: StackContext) => managedProcess(context.layout.runDir, context.layout.logDir, 'kafka')

function log4jFlags(context: StackContext): string[] {
  return [
    `-Dlog4j.configuration=file:${path.join(PROJECT_ROOT, 'infra/kafka/log4j.properties')}`,
    `-Dkafka.logs.dir=${path.join(context.layout.logDir, 'kafka-broker')}`,
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

export const kafkaService: StackService = {
  name: 'kafka',
  logFile: (context) => proc(context).logFile,

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
    // Before the running check, so `up` also tightens the directories of a running broker.
    const dir = ensurePrivateDir(stateDir(context))
    const dataDir = ensurePrivateDir(path.join(dir, 'log-dirs'))
    if (runningPid(proc(context))) return 'already running'
    const properties = renderTemplate(
      readFileSync(path.join(PROJECT_ROOT, 'infra/kafka/server.properties.template'), 'utf8'),
      {
        KAFKA_PORT: String(context.layout.ports.kafka),
        CONTROLLER_PORT: String(context.layout.ports.controller),
        DATA_DIR: dataDir,
        NODE_ID: '1',
      },
    )
    const propertiesFile = path.join(dir, 'server.properties')
    writeFileSync(propertiesFile, properties)
    if (!existsSync(path.join(dataDir, 'meta.properties'))) {
      context.progress('kafka: formatting storage (KRaft)')
      const clusterId = randomBytes(16).toString('base64url')
      await run('java', [
        '-Xmx256m',
        ...log4jFlags(context),
        '-cp',
        classpath(context),
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        propertiesFile,
      ])
    }
    startDetached(proc(context), {
      command: 'java',
      args: [...JVM_FLAGS, ...log4jFlags(context), '-cp', classpath(context), 'kafka.Kafka', propertiesFile],
      cwd: dir,
    })
    return 'started'
  },

  async isHealthy(context) {
    const kafka = new Kafka({
      clientId: 'veridis-stack-probe',
      brokers: [`127.0.0.1:${context.layout.ports.kafka}`],
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    })
    const admin = kafka.admin()
    try {
      await admin.connect()
      const cluster = await admin.describeCluster()
      return cluster.brokers.length > 0 && cluster.controller !== null
    } catch {
      return false
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  },

  stop: async (context) => stopProcess(proc(context)),
  pid: (context) => runningPid(proc(context)),
  describe: (context) => `bootstrap 127.0.0.1:${context.layout.ports.kafka}, data ${stateDir(context)}`,
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
