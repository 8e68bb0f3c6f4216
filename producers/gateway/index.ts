import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import type { FastifyInstance } from 'fastify'
import type { Kafka } from 'kafkajs'
import { type GuardConfig, loadGuardConfig, localBridgeConfigFile } from '../../core/bridge/config.ts'
import { type Bus, connectBus } from '../../core/bus/connect.ts'
import { createBusProducer } from '../../core/bus/producer.ts'
import type { Config } from '../../core/config/env.ts'
import type { Common } from '../../core/context.ts'
import type { CommandSealer } from '../../core/crypto/command-seal.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { describeError } from '../../core/errors.ts'
import { labelInstance } from '../../core/metrics/registry.ts'
import { createChainReaders } from '../chains/evm/bridge/chain-reader.ts'
import { createCommandAcceptor, pruneIdempotency } from './accept.ts'
import { createAuditWriter } from './audit-facts.ts'
import { createAuthenticator } from './auth.ts'
import { createBatchingPublisher, type PublishMany, serialPublishes } from './batching.ts'
import { createDependencyHealth, withTimeout } from './kafka-health.ts'
import { createRateLimiters } from './rate-limiters.ts'
import { createRefusalTally } from './refusal-tally.ts'
import { GATEWAY_OPS_PORT, startGatewayOps } from './routes/ops.ts'
import { buildGatewayApp } from './setup.ts'

const PRUNE_INTERVAL_MS = 60 * 60 * 1000
const REFUSAL_WINDOW_MS = 10_000

export interface Gateway {
  /** The public API. */
  readonly app: FastifyInstance
  /** /health, /ready, /metrics and the OpenAPI document, listening on `opsPort`. */
  readonly ops: FastifyInstance
  readonly opsPort: number
  readonly bus: Bus
  /** Listens on the configured (or given) port; resolves to the port. */
  listen(port?: number): Promise<number>
  /** Stops taking requests, publishes queued audit facts, disconnects. */
  close(): Promise<void>
}

/**
 * The gateway's parts wired together. `kafka` replaces the client built from the
 * configuration (tests route it through a fault-injecting proxy); `publishThrough` wraps
 * every publish to Kafka (tests fail one topic); `poolThrough` the database pool; `apiKeyCacheMs` bounds how long a revoked
 * key keeps working.
 */
/**
 * How the gateway gets its command sealer: subject fields are sealed under keys held by the
 * subject vault, which lives with the audit consumer (consumers/audit/vault.ts); whoever
 * starts the gateway (the CLI, a test) passes `createCommandSealerFor` from there, so the
 * gateway does not import a consumer.
 */
export type CommandSealerFactory = (config: Config, pool: Pool, auditTopic: string) => Promise<CommandSealer>

export async function createGateway(
  common: Common,
  createSealer: CommandSealerFactory,
  options: {
    kafka?: Kafka
    apiKeyCacheMs?: number
    healthIntervalMs?: number
    publishThrough?: (publishMany: PublishMany) => PublishMany
    /** Wraps the database pool (tests count the queries a request costs). */
    poolThrough?: (pool: Pool) => Pool
    /** Port of the ops endpoints (0: any free one); GATEWAY_OPS_PORT by default. */
    opsPort?: number
    /** Window over which 401 and 429 refusals are counted into one audit fact. */
    refusalWindowMs?: number
    /** The bridges of the security endpoints; by default the bridge guard's configuration file. */
    bridges?: GuardConfig
  } = {},
): Promise<Gateway> {
  // Several instances may sit behind one scrape target: each names itself in its metrics.
  labelInstance(common.metrics, common.config.gateway.instanceId ?? `${hostname()}:${process.pid}`)
  const defaultBus = connectBus(common)
  const bus: Bus = options.kafka ? { ...defaultBus, kafka: options.kafka } : defaultBus
  const ownPool = createPool(common.config.database, common.logger, 'veridis-gateway')
  const pool = options.poolThrough ? options.poolThrough(ownPool) : ownPool
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: 'gateway',
    topics: [bus.topics.command.name, bus.topics.auditIntake.name],
  })
  const health = createDependencyHealth(common, {
    bus,
    producer,
    pool,
    ...(options.healthIntervalMs ? { intervalMs: options.healthIntervalMs } : {}),
  })
  // One producer, one request at a time, but a batching publisher per topic: a batch has
  // one outcome, and a command's must not depend on an audit fact's (or the other way).
  const direct: PublishMany = (batches) => producer.publishMany(batches)
  const publishMany = serialPublishes(options.publishThrough ? options.publishThrough(direct) : direct)
  const audit = createAuditWriter(common, {
    publisher: createBatchingPublisher(publishMany),
    topic: bus.topics.auditIntake.name,
    health,
  })
  const acceptor = createCommandAcceptor({
    pool,
    publisher: createBatchingPublisher(publishMany),
    health,
    topic: bus.topics.command.name,
    publishTimeoutMs: common.config.gateway.publishTimeoutMs,
    logger: common.logger.child({ component: 'accept' }),
    seal: (await createSealer(common.config, pool, bus.topics.audit.name)).seal,
  })
  const authenticator = await createAuthenticator(common.config.gateway, pool, {
    ...(options.apiKeyCacheMs === undefined ? {} : { apiKeyCacheMs: options.apiKeyCacheMs }),
  })
  const refusals = createRefusalTally({ audit, windowMs: options.refusalWindowMs ?? REFUSAL_WINDOW_MS })
  // Instances publishing to one command topic are one deployment: they share their counts.
  const rateLimits = createRateLimiters(common, { pool, scope: bus.topics.command.name })
  const bridges = options.bridges ?? loadBridges(common)
  const security = {
    bridges,
    readers: bridges
      ? createChainReaders(bridges, common.logger.child({ component: 'bridge-reader' }))
      : new Map(),
    bridgeTopic: bus.topics.bridge.name,
    alertTopic: bus.topics.alert.name,
  }
  const app = await buildGatewayApp({
    common,
    pool,
    health,
    authenticator,
    acceptor,
    audit,
    refusals,
    rateLimits,
    security,
  })
  await app.ready()
  const ops = await startGatewayOps(common, { port: options.opsPort ?? GATEWAY_OPS_PORT, health, api: app })
  // The first probe round connects the producer when Kafka is there; the gateway starts
  // either way and reports 503 on /ready and on commands until it is.
  await health.start()

  const prune = setInterval(async () => {
    try {
      const removed = await pruneIdempotency(pool, bus.topics.command.retentionMs ?? 7 * 86_400_000)
      if (removed > 0) common.logger.info({ removed }, 'pruned idempotency keys older than the command topic')
    } catch (error) {
      common.logger.warn({ err: describeError(error) }, 'pruning idempotency keys failed; will retry')
    }
  }, PRUNE_INTERVAL_MS)
  prune.unref()

  let closed: Promise<void> | undefined
  return {
    app,
    ops: ops.app,
    opsPort: ops.port,
    bus,
    async listen(port = common.config.gateway.port) {
      await app.listen({ port, host: common.config.gateway.host })
      const address = app.server.address()
      return typeof address === 'object' && address ? address.port : port
    },
    close() {
      closed ??= (async () => {
        clearInterval(prune)
        await app.close()
        rateLimits.close()
        refusals.close()
        await audit.drain(Math.min(5_000, common.config.shutdownGraceMs / 2))
        // Publications still to be recorded: lost, a retry of their key would publish again.
        await withTimeout(acceptor.settled(), 5_000, 'recording publications').catch((error: unknown) =>
          common.logger.warn({ err: describeError(error) }, 'publications left unrecorded at shutdown'),
        )
        await health.stop()
        await producer.disconnect().catch(() => undefined)
        await ops.app.close().catch(() => undefined)
        await ownPool.end()
      })()
      return closed
    },
  }
}

/**
 * The bridges the guard watches, from the same file it reads (`VERIDIS_BRIDGE_GUARD_CONFIG`, or
 * `<VERIDIS_HOME>/bridges.json`). No file: the gateway serves everything but the attestation
 * check, which answers 404 for every bridge. A file that does not parse stops the start, as
 * any other configuration error does.
 */
function loadBridges(common: Common): GuardConfig | undefined {
  const file = process.env.VERIDIS_BRIDGE_GUARD_CONFIG
  if (file === undefined && !existsSync(localBridgeConfigFile(common.config.home))) {
    common.logger.info('no bridge configuration: the attestation check knows no bridge')
    return undefined
  }
  return loadGuardConfig({ home: common.config.home, file })
}

/** `veridis gateway`: the gateway as a process, stopped in order on SIGTERM/SIGINT. */
export async function runGateway(
  common: Common,
  createSealer: CommandSealerFactory,
  options: { port?: number; opsPort?: number } = {},
) {
  const gateway = await createGateway(
    common,
    createSealer,
    options.opsPort === undefined ? {} : { opsPort: options.opsPort },
  )
  common.shutdown.onShutdown('gateway', () => gateway.close())
  const port = await gateway.listen(options.port)
  common.logger.info(
    { url: `http://${common.config.gateway.host}:${port}`, ops: `http://127.0.0.1:${gateway.opsPort}` },
    'gateway listening (API under /api/v1 and /health; /ready, /metrics, /docs/openapi.json on the ops port)',
  )
  return gateway
}
