import { benchLagMonitor, printLagBench } from './lag-monitor.ts'
import { benchPipeline, printPipelineBench, type TracingMode } from './pipeline.ts'

/** `bin/veridis bench <name> [--events N]`, through bench/main.ts. */
export async function runBench(
  name: string,
  options: {
    events?: number
    rounds?: number
    groups?: number
    partitions?: number
    duration?: number
    connections?: number
    instances?: number
    batch?: number
    seed?: number
    family?: string
    uses?: number
    tracing?: string
    transport?: 'kafkajs' | 'librdkafka'
  },
) {
  switch (name) {
    case 'pipeline': {
      const count = options.events ?? 100_000
      const tracing = options.tracing ?? 'off'
      if (!['off', 'on', 'both'].includes(tracing))
        throw new Error(`--tracing must be off, on or both (got '${tracing}')`)
      printPipelineBench(
        count,
        await benchPipeline(
          count,
          options.rounds ?? 3,
          tracing as TracingMode,
          options.instances ?? 2,
          options.transport,
        ),
        options.transport,
      )
      return
    }
    case 'lag': {
      printLagBench(
        await benchLagMonitor({
          groups: options.groups ?? 50,
          partitions: options.partitions ?? 64,
          rounds: options.rounds ?? 15,
        }),
      )
      return
    }
    case 'gateway': {
      const { benchGateway, printGatewayBench } = await import('./gateway.ts')
      printGatewayBench(
        await benchGateway({
          durationSeconds: options.duration ?? 10,
          connections: options.connections ?? 64,
          rounds: options.rounds ?? 3,
          instances: options.instances ?? 2,
        }),
      )
      return
    }
    case 'zk': {
      const { benchZk, printZkBench } = await import('./zk.ts')
      printZkBench(
        await benchZk({
          proofs: options.events ?? 64,
          batch: options.batch ?? 64,
          rounds: options.rounds ?? 5,
        }),
      )
      return
    }
    case 'evm': {
      const { benchEvmListener, printEvmListenerBench } = await import('./evm-listener.ts')
      printEvmListenerBench(await benchEvmListener(options.events ?? 10_000, options.rounds ?? 3))
      return
    }
    case 'audit': {
      const { benchAudit, printAuditBench } = await import('./audit.ts')
      const count = options.events ?? 10_000
      printAuditBench(count, await benchAudit(count, options.rounds ?? 3))
      return
    }
    case 'nullifiers': {
      const { benchNullifiers, printNullifiersBench } = await import('./nullifiers.ts')
      printNullifiersBench(await benchNullifiers(options.events ?? 40))
      return
    }
    case 'anomaly': {
      const { benchAnomaly, printAnomalyBench } = await import('./guard-anomaly.ts')
      printAnomalyBench(benchAnomaly({ seed: options.seed ?? 1, corridors: 24, days: 14 }))
      return
    }
    case 'guard': {
      const { benchGuard, printGuardBench } = await import('./guard.ts')
      printGuardBench(await benchGuard({ events: options.events ?? 4_000, offending: 50 }))
      return
    }
    // `bench starknet` is the StarkNet family's part of `bench chains` (issue 14 named it so).
    case 'starknet':
    case 'chains': {
      const { benchChains, printChainsBench } = await import('./chains.ts')
      printChainsBench(
        await benchChains({
          family: name === 'starknet' ? 'starknet' : options.family,
          events: options.events ?? 2_000,
          rounds: options.rounds ?? 3,
          uses: options.uses ?? 20,
        }),
      )
      return
    }
    case 'transport': {
      const { benchTransport, printTransportBench } = await import('./transport.ts')
      printTransportBench(
        await benchTransport({ events: options.events ?? 100_000, rounds: options.rounds ?? 3 }),
      )
      return
    }
    case 'sql-rows': {
      const { benchSqlRows, printSqlRowsBench } = await import('./sql-rows.ts')
      const sqlRows = {
        events: options.events ?? 60_000,
        batch: options.batch ?? 600,
        rounds: options.rounds ?? 3,
      }
      printSqlRowsBench(sqlRows, await benchSqlRows(sqlRows))
      return
    }
    default:
      throw new Error(
        `unknown bench '${name}'; known: pipeline, lag, gateway, zk, evm, audit, nullifiers, anomaly, guard, chains, starknet, transport, sql-rows`,
      )
  }
}
