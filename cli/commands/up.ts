import { type Command, InvalidArgumentError } from 'commander'
import { buildZkNative } from '../../circuits/native.ts'
import { connectBus } from '../../core/bus/connect.ts'
import { prepareBus } from '../../core/bus/setup.ts'
import { redactUrl } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { JAEGER_PORTS, tracingUp } from '../../infra/stack/jaeger.ts'
import {
  LAG_MONITOR_PORT,
  MAX_INSTANCES,
  pipelineStatus,
  pipelineUp,
  prometheusUp,
} from '../../infra/stack/pipeline.ts'
import { PROMETHEUS_PORT } from '../../infra/stack/prometheus.ts'
import { stackStatus, stackUp } from '../../infra/stack/stack.ts'
import { evmNative } from '../../producers/chains/evm/native.ts'
import { GATEWAY_OPS_PORT } from '../../producers/gateway/routes/ops.ts'
import { localContext, parseBrokerCount, printTable, useLocalBrokers } from '../local-stack.ts'
import { progress } from '../progress.ts'

async function bringUp(options: { tracing?: boolean; brokers?: number; instances?: number }) {
  const cluster = options.brokers === undefined ? undefined : useLocalBrokers(options.brokers)
  const { config, context, logger } = localContext()
  await stackUp(context, logger)
  // Opt-in: the collector is no default service, and processes already running keep their setting.
  if (options.tracing) process.env.VERIDIS_OTLP_ENDPOINT = await tracingUp(context)
  const common = createCommon('cli', { config })
  const bus = connectBus(common)
  const prepared = await prepareBus(common, bus)
  if (prepared.topics.created.length > 0)
    progress(`kafka: created topics ${prepared.topics.created.join(', ')}`)
  progress(
    `registry: ${prepared.schemas.size} topics have key and value schemas registered (FULL_TRANSITIVE)`,
  )
  // The prover and verifier take the native Groth16 addon when it is built (VERIDIS_ZK_BACKEND=auto).
  try {
    progress(`zk: native Groth16 addon ${buildZkNative()}`)
  } catch (error) {
    progress(`zk: native Groth16 addon not built, the prover uses snarkjs (${(error as Error).message})`)
  }
  // The bridge guard recovers guardian signatures natively when this addon is built (half a minute).
  try {
    progress(`bridge guard: native secp256k1 addon ${evmNative.build()}`)
  } catch (error) {
    progress(
      `bridge guard: native secp256k1 addon not built, signatures are recovered in WebAssembly (${(error as Error).message})`,
    )
  }
  const processes = await pipelineUp(context, options.instances)
  await prometheusUp(context, processes)
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
      ...(options.tracing
        ? [
            `Traces      http://127.0.0.1:${JAEGER_PORTS.query}/api/traces/<trace id> (Jaeger; OTLP/HTTP in on ${JAEGER_PORTS.otlp})`,
          ]
        : []),
      `Logs        ${context.layout.logDir}`,
      ...(cluster
        ? [
            `Cluster     other shells: export ${Object.entries(cluster)
              .map(([name, value]) => `${name}=${value}`)
              .join(' ')}`,
          ]
        : []),
      'Stop with   bin/veridis down',
      '',
    ].join('\n'),
  )
}

function parseInstanceCount(value: string): number {
  const count = Number(value)
  if (!Number.isInteger(count) || count < 1 || count > MAX_INSTANCES)
    throw new InvalidArgumentError(`a whole number from 1 to ${MAX_INSTANCES}`)
  return count
}

export function registerUpCommand(program: Command) {
  program
    .command('up')
    .description('start the local stack and every pipeline process')
    .option(
      '--tracing',
      'also start Jaeger on loopback (OTLP 127.0.0.1:4318, query 127.0.0.1:16686) and export every process’s spans to it',
    )
    .option(
      '--brokers <n>',
      'run Kafka as a cluster of n KRaft nodes (127.0.0.1:19092, :19094, …; topics replicated on min(n, 3), one fewer in sync)',
      parseBrokerCount,
    )
    .option(
      '--instances <n>',
      `run n (1–${MAX_INSTANCES}) of each scalable process: every consumer but audit in its group, and the gateway on VERIDIS_GATEWAY_PORT and +100, +200, … sharing idempotency and rate limits in Postgres (default: as many as run now, else 1)`,
      parseInstanceCount,
    )
    .action(bringUp)
}
