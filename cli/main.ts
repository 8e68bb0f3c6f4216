import { Command, Option } from 'commander'
import { runBench } from '../bench/run.ts'
import { CONSUMERS } from '../consumers/index.ts'
import { connectBus } from '../core/bus/connect.ts'
import { prepareBus } from '../core/bus/setup.ts'
import { ConfigError, loadConfig, redactUrl } from '../core/config/env.ts'
import { createCommon } from '../core/context.ts'
import { migrate } from '../core/db/migrate.ts'
import { createPool } from '../core/db/pool.ts'
import { createLogger } from '../core/logging/logger.ts'
import { runConsumerProcess } from '../core/service/consumer-process.ts'
import {
  LAG_MONITOR_PORT,
  pipelineDown,
  pipelineStatus,
  pipelineUp,
  prometheusUp,
} from '../infra/stack/pipeline.ts'
import { PROMETHEUS_PORT } from '../infra/stack/prometheus.ts'
import { stackContext, stackDown, stackInstall, stackStatus, stackUp } from '../infra/stack/stack.ts'
import { registerDashboard } from '../monitor/dashboard/assets.ts'
import { runLagMonitor } from '../monitor/lag/process.ts'
import { staleGeneratedTypes, writeGeneratedTypes } from '../schemas/codegen.ts'
import { runTests } from './test.ts'

/**
 * `veridis`: one entry point for every part of the pipeline. Configuration problems end
 * the command with one line per problem and exit code 78 (EX_CONFIG), never a stack trace.
 */
const progress = (message: string) => process.stderr.write(`veridis: ${message}\n`)

function localContext() {
  const config = loadConfig()
  return {
    config,
    context: stackContext(config, progress),
    logger: createLogger({ service: 'cli', level: config.logLevel === 'info' ? 'warn' : config.logLevel }),
  }
}

function printTable(
  rows: readonly { name: string; pid: number | undefined; healthy: boolean; detail: string }[],
) {
  for (const row of rows) {
    const state = row.pid === undefined ? 'stopped' : row.healthy ? 'healthy' : 'unhealthy'
    process.stdout.write(
      `${row.name.padEnd(18)} ${state.padEnd(10)} ${String(row.pid ?? '-').padEnd(8)} ${row.detail}\n`,
    )
  }
}

async function bringUp() {
  const { config, context, logger } = localContext()
  await stackUp(context, logger)
  const common = createCommon('cli', { config })
  const bus = connectBus(common)
  const prepared = await prepareBus(common, bus)
  if (prepared.topics.created.length > 0)
    progress(`kafka: created topics ${prepared.topics.created.join(', ')}`)
  progress(
    `registry: ${prepared.schemas.size} topics have key and value schemas registered (FULL_TRANSITIVE)`,
  )
  await pipelineUp(context)
  await prometheusUp(context)
  printTable([...(await stackStatus(context)), ...(await pipelineStatus(context))])
  process.stdout.write(
    [
      '',
      `Kafka       ${config.kafka.brokers.join(',')}`,
      `Registry    ${config.schemaRegistry.url}`,
      `Postgres    ${redactUrl(config.database.url)}`,
      `Lag         http://127.0.0.1:${LAG_MONITOR_PORT}/ (dashboard), /api/v1/lag, /metrics`,
      `Prometheus  http://127.0.0.1:${PROMETHEUS_PORT} (rules: infra/prometheus/rules)`,
      `Logs        ${context.layout.logDir}`,
      'Stop with   bin/veridis down',
      '',
    ].join('\n'),
  )
}

const program = new Command('veridis').description('Veridis event pipeline').showHelpAfterError()

program.command('up').description('start the local stack and every pipeline process').action(bringUp)

program
  .command('down')
  .description('stop every pipeline process and the local stack')
  .action(async () => {
    const { context } = localContext()
    await pipelineDown(context)
    await stackDown(context)
  })

program
  .command('status')
  .description('show the stack and pipeline processes')
  .action(async () => {
    const { context } = localContext()
    printTable([...(await stackStatus(context)), ...(await pipelineStatus(context))])
  })

const stack = program
  .command('stack')
  .description('the local infrastructure: Kafka, schema registry, PostgreSQL')
stack
  .command('install')
  .description('install what this machine lacks (cached)')
  .action(async () => stackInstall(localContext().context))
stack
  .command('up')
  .description('start Kafka, the registry and PostgreSQL and apply migrations (idempotent)')
  .action(async () => {
    const { context, logger } = localContext()
    await stackUp(context, logger)
    printTable(await stackStatus(context))
  })
stack
  .command('down')
  .description('stop the stack')
  .action(async () => stackDown(localContext().context))
stack
  .command('status')
  .description('show each service')
  .action(async () => {
    const rows = await stackStatus(localContext().context)
    printTable(rows)
    if (rows.some((row) => !row.healthy)) process.exitCode = 3
  })

program
  .command('topics')
  .description('provision topics and register schemas from the declaration (idempotent)')
  .action(async () => {
    const common = createCommon('cli')
    const prepared = await prepareBus(common, connectBus(common))
    process.stdout.write(`${JSON.stringify(prepared.topics, null, 2)}\n`)
  })

const schemas = program.command('schemas').description('Avro contracts')
schemas
  .command('generate')
  .description('regenerate TypeScript types from schemas/*.avsc')
  .action(() => {
    process.stdout.write(`${writeGeneratedTypes().join('\n')}\n`)
  })
schemas
  .command('check')
  .description('fail when the generated types are stale')
  .action(() => {
    const stale = staleGeneratedTypes()
    if (stale.length > 0) {
      process.stderr.write(
        `veridis: generated types are stale: ${stale.join(', ')}; run bin/veridis schemas generate\n`,
      )
      process.exitCode = 1
    }
  })

program
  .command('migrate')
  .description('apply database migrations')
  .action(async () => {
    const config = loadConfig()
    const logger = createLogger({ service: 'cli', level: config.logLevel })
    const pool = createPool(config.database, logger, 'veridis-migrate')
    try {
      process.stdout.write(`${(await migrate(pool)).join('\n') || 'up to date'}\n`)
    } finally {
      await pool.end()
    }
  })

program
  .command('consume')
  .description('run a consumer')
  .addArgument(new Command().createArgument('<name>', 'consumer').choices(Object.keys(CONSUMERS)))
  .addOption(new Option('--ops-port <port>', 'port for /health, /ready, /metrics').argParser(Number))
  .action(async (name: string, options: { opsPort?: number }) => {
    const entry = CONSUMERS[name]!
    const common = createCommon(`consumer-${name}`)
    common.shutdown.installSignalHandlers()
    await runConsumerProcess(common, entry.module, { opsPort: options.opsPort ?? entry.opsPort })
  })

program
  .command('lag')
  .description('run the consumer-lag monitor: /metrics, /api/v1/lag and the dashboard at /')
  .addOption(new Option('--port <port>', 'HTTP port').argParser(Number))
  .action(async (options: { port?: number }) => {
    const common = createCommon('lag-monitor')
    common.shutdown.installSignalHandlers()
    await runLagMonitor(common, { port: options.port ?? LAG_MONITOR_PORT, dashboard: registerDashboard })
  })

program
  .command('bench')
  .description('run a benchmark against the local stack (see bench/)')
  .argument('<name>', 'pipeline | lag')
  .addOption(new Option('--events <n>', 'pipeline: how many events').argParser(Number))
  .addOption(new Option('--groups <n>', 'lag: consumer groups').argParser(Number))
  .addOption(new Option('--partitions <n>', 'lag: partitions per group').argParser(Number))
  .addOption(new Option('--rounds <n>', 'rounds to take the median of').argParser(Number))
  .action(
    async (
      name: string,
      options: { events?: number; rounds?: number; groups?: number; partitions?: number },
    ) => {
      await runBench(name, options)
      process.exit(0)
    },
  )

program
  .command('test')
  .description('run every test against the real local stack (starts it if needed)')
  .allowUnknownOption()
  .argument('[vitest args...]')
  .action(async (args: string[]) => {
    process.exitCode = await runTests(args)
  })

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`veridis: ${error.message}\n`)
    process.exit(78)
  }
  process.stderr.write(`veridis: ${error instanceof Error ? error.message : String(error)}\n`)
  if (process.env.VERIDIS_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`)
  process.exit(1)
})
