import { Command, Option } from 'commander'
import { runBench } from '../bench/run.ts'
import { CONSUMERS } from '../consumers/index.ts'
import { compileContracts, staleContractArtifacts } from '../contracts/evm/build.ts'
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
import { runChainListener } from '../producers/chains/common/process.ts'
import { CHAIN_FAMILIES, chainFamily } from '../producers/chains/families.ts'
import { GATEWAY_OPS_PORT } from '../producers/gateway/routes/ops.ts'
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
      `${row.name.padEnd(20)} ${state.padEnd(10)} ${String(row.pid ?? '-').padEnd(8)} ${row.detail}\n`,
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
      `Gateway     http://${config.gateway.host}:${config.gateway.port}/api/v1/ (OpenAPI: http://127.0.0.1:${GATEWAY_OPS_PORT}/docs/openapi.json; keys: bin/veridis apikey create)`,
      `Chains      ${config.chains.join(', ')} (anvil, contracts in ${context.layout.home}/deployments/)`,
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

const contracts = program.command('contracts').description('EVM contracts (contracts/evm)')
contracts
  .command('build')
  .description('compile contracts/evm/src with solc-js into contracts/evm/artifacts')
  .action(() => {
    process.stdout.write(`${compileContracts().join('\n')}\n`)
  })
contracts
  .command('check')
  .description('fail when the contract artifacts are stale')
  .action(() => {
    const stale = staleContractArtifacts()
    if (stale.length > 0) {
      process.stderr.write(
        `veridis: contract artifacts are stale: ${stale.join('; ')}; run bin/veridis contracts build\n`,
      )
      process.exitCode = 1
    }
  })

const circuits = program.command('circuits').description('zero-knowledge circuits (circuits/, docs/zk.md)')
circuits
  .command('build')
  .description('compile the circom circuits into scratch/zk/build (constraint counts, no keys)')
  .action(async () => {
    const { buildCircuits } = await import('../circuits/cli.ts')
    await buildCircuits(progress)
  })
circuits
  .command('ceremony')
  .description('development ceremony: keys, verification keys, Solidity verifiers, manifest')
  .addOption(new Option('--ptau <file>', "a public ceremony's ptau instead of a generated one"))
  .addOption(new Option('--power <n>', 'power of the generated ptau').argParser(Number))
  .action(async (options: { ptau?: string; power?: number }) => {
    const { runCeremony } = await import('../circuits/ceremony.ts')
    await runCeremony({ ...options, log: progress })
  })
circuits
  .command('check')
  .description('fail when a circuit changed and its artifacts did not')
  .action(async () => {
    const { checkArtifacts } = await import('../circuits/manifest.ts')
    const problems = await checkArtifacts()
    for (const problem of problems) process.stderr.write(`veridis: circuits: ${problem}\n`)
    if (problems.length > 0) process.exitCode = 1
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

const audit = program.command('audit').description('the compliance-audit trail (docs/audit.md)')
audit
  .command('replay')
  .description('re-read veridis.audit.v1, verify every hash chain, rebuild the Postgres projection')
  .option('--from-offset <offset>', 'start every partition at this offset')
  .option('--from-time <iso>', 'start at the first record at or after this time')
  .option('--topic <name>', 'verify another topic holding audit records (e.g. a copy)')
  .option('--no-rebuild', 'verify only; leave the projection as it is')
  .option('--json', 'print the report as JSON')
  .action(
    async (options: {
      fromOffset?: string
      fromTime?: string
      topic?: string
      rebuild: boolean
      json?: boolean
    }) => {
      const { runAuditReplay } = await import('../consumers/audit/cli.ts')
      await runAuditReplay({ ...options, json: options.json ?? false })
    },
  )
audit
  .command('export')
  .description("a data subject's access report: data held (decrypted), erasures, audit records")
  .requiredOption('--subject <id>', 'the data subject id')
  .option('--requested-by <name>', 'who asks, recorded on the audit trail', 'veridis-cli')
  .action(async (options: { subject: string; requestedBy: string }) => {
    const { runAuditExport } = await import('../consumers/audit/cli.ts')
    await runAuditExport(options)
  })

program
  .command('listen')
  .description(
    'follow the chains of one family and publish their Veridis events (every configured chain by default)',
  )
  .argument('<family>', `chain family: ${Object.keys(CHAIN_FAMILIES).join(', ')}`)
  .addOption(new Option('--chain <caip2...>', 'only these chains, e.g. eip155:31337'))
  .addOption(new Option('--ops-port <port>', 'port for /health, /ready, /metrics').argParser(Number))
  .action(async (familyName: string, options: { chain?: string[]; opsPort?: number }) => {
    const family = chainFamily(familyName)
    const common = createCommon(`listener-${family.family}`)
    common.shutdown.installSignalHandlers()
    await runChainListener(common, family, {
      chains: options.chain ?? [],
      ...(options.opsPort === undefined ? {} : { opsPort: options.opsPort }),
    })
  })

program
  .command('gateway')
  .description(
    'run the HTTP command gateway (docs/gateway.md): API and /health; /ready, /metrics, /docs/openapi.json on the ops port',
  )
  .addOption(new Option('--port <port>', 'HTTP port (default VERIDIS_GATEWAY_PORT, 18088)').argParser(Number))
  .addOption(new Option('--ops-port <port>', `ops port (default ${GATEWAY_OPS_PORT})`).argParser(Number))
  .action(async (options: { port?: number; opsPort?: number }) => {
    const { runGateway } = await import('../producers/gateway/index.ts')
    const common = createCommon('gateway')
    common.shutdown.installSignalHandlers()
    await runGateway(common, {
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.opsPort === undefined ? {} : { opsPort: options.opsPort }),
    })
  })

const apikey = program.command('apikey').description("the gateway's API keys (stored hashed; shown once)")
const withPool = async <T>(work: (pool: ReturnType<typeof createPool>) => Promise<T>): Promise<T> => {
  const config = loadConfig()
  const pool = createPool(config.database, createLogger({ service: 'cli', level: 'warn' }), 'veridis-apikey')
  try {
    return await work(pool)
  } finally {
    await pool.end()
  }
}
apikey
  .command('create')
  .description('create a key; it is printed once and cannot be shown again')
  .requiredOption('--name <name>', 'who or what uses the key')
  .requiredOption(
    '--roles <roles>',
    'comma-separated roles (admin, prover, verifier, attester, relayer, ...)',
  )
  .action(async (options: { name: string; roles: string }) => {
    const { createApiKey } = await import('../producers/gateway/api-keys.ts')
    const roles = options.roles
      .split(',')
      .map((role) => role.trim())
      .filter(Boolean)
    const { key, record } = await withPool((pool) => createApiKey(pool, { name: options.name, roles }))
    process.stderr.write(
      `veridis: API key ${record.keyId} (${record.roles.join(', ')}); store it now, it is not kept\n`,
    )
    process.stdout.write(`${key}\n`)
  })
apikey
  .command('revoke')
  .description('revoke a key by its id (or the key itself)')
  .argument('<id>', 'key id as listed')
  .action(async (id: string) => {
    const { revokeApiKey } = await import('../producers/gateway/api-keys.ts')
    if (!(await withPool((pool) => revokeApiKey(pool, id)))) {
      process.stderr.write('veridis: no live key with that id\n')
      process.exitCode = 1
    } else process.stderr.write('veridis: revoked (every gateway refuses it within 5 s)\n')
  })
apikey
  .command('list')
  .description('list keys: id, name, roles, created, revoked (never the secret)')
  .action(async () => {
    const { listApiKeys } = await import('../producers/gateway/api-keys.ts')
    for (const key of await withPool((pool) => listApiKeys(pool))) {
      process.stdout.write(
        `${key.keyId}  ${key.revokedAt ? 'revoked' : 'active '}  ${key.createdAt.toISOString()}  [${key.roles.join(',')}]  ${key.name}\n`,
      )
    }
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
  .argument('<name>', 'pipeline | lag | gateway | zk | evm | audit | nullifiers')
  .addOption(new Option('--events <n>', 'pipeline: how many events').argParser(Number))
  .addOption(new Option('--groups <n>', 'lag: consumer groups').argParser(Number))
  .addOption(new Option('--partitions <n>', 'lag: partitions per group').argParser(Number))
  .addOption(new Option('--rounds <n>', 'rounds to take the median of').argParser(Number))
  .addOption(new Option('--duration <s>', 'gateway: seconds per load run').argParser(Number))
  .addOption(new Option('--connections <n>', 'gateway: concurrent connections').argParser(Number))
  .addOption(new Option('--batch <n>', 'zk: proofs per verification batch').argParser(Number))
  .action(
    async (
      name: string,
      options: {
        events?: number
        rounds?: number
        groups?: number
        partitions?: number
        duration?: number
        connections?: number
        batch?: number
      },
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
