import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { ensureDeployed } from '../../contracts/evm/deploy.ts'
import { devnetAccount, STARKNET_DEV_ACCOUNT } from '../../contracts/starknet/accounts.ts'
import { ensureStarknetDeployed } from '../../contracts/starknet/deploy.ts'
import { sleep } from '../../core/bus/retry.ts'
import type { Config } from '../../core/config/env.ts'
import { migrate } from '../../core/db/migrate.ts'
import { createPool } from '../../core/db/pool.ts'
import type { Logger } from '../../core/logging/logger.ts'
import { ANVIL_SERVICES, anvilRpcUrl, LOCAL_ANVILS } from './anvil.ts'
import { chopsticksNode } from './chopsticks.ts'
import { kafkaNodeStatus, kafkaService } from './kafka.ts'
import { stackLayout } from './layout.ts'
import { writeLocalBridgeConfig } from './local-bridges.ts'
import { writeLocalChainConfig, writeLocalStarknetConfig } from './local-chains.ts'
import { ensureRoleAndDatabase, postgresService } from './postgres.ts'
import { ensurePrivateDir } from './private-dir.ts'
import { tailLog } from './process.ts'
import { registryService } from './registry.ts'
import type { ChainNode, Progress, StackContext, StackService } from './service.ts'
import { solanaNode } from './solana-validator.ts'
import {
  devnetRpcUrl,
  LOCAL_DEVNET,
  starknetDevnetService,
  starknetL1ClockService,
} from './starknet-devnet.ts'
import { wasmdNode } from './wasmd.ts'

/**
 * The local nodes of the non-EVM families (the anvils are prepared together, below). One
 * entry per family: its service and its preparation live in the family's own file.
 */
const CHAIN_NODES: readonly ChainNode[] = [
  { service: starknetDevnetService, prepare: deployOnDevnet },
  { service: starknetL1ClockService, prepare: async () => {} },
  chopsticksNode,
  wasmdNode,
  solanaNode,
]

/** In start order: the registry keeps its schemas in Postgres; the local chains last. */
export const STACK_SERVICES: readonly StackService[] = [
  postgresService,
  kafkaService,
  registryService,
  ...ANVIL_SERVICES,
  ...CHAIN_NODES.map((node) => node.service),
]

export function stackContext(config: Config, progress: Progress): StackContext {
  return { config, layout: stackLayout(config), progress }
}

// A cap, not an expectation: chopsticks took 79 s to answer at load 17 on two cores.
const HEALTH_TIMEOUT_MS = 180_000

async function waitHealthy(context: StackContext, service: StackService): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (await service.isHealthy(context)) return
    if (service.pid(context) === undefined) {
      throw new Error(
        `${service.name} exited during start-up; last lines of ${service.logFile(context)}:\n${tailLog(service.logFile(context))}`,
      )
    }
    await sleep(250)
  }
  throw new Error(
    `${service.name} did not become healthy within ${HEALTH_TIMEOUT_MS / 1000} s; see ${service.logFile(context)}`,
  )
}

async function startAndWait(context: StackContext, service: StackService) {
  const started = Date.now()
  const outcome = await service.start(context)
  await waitHealthy(context, service)
  context.progress(
    `${service.name}: ${outcome === 'started' ? `healthy in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'already running'}`,
  )
}

export async function stackInstall(context: StackContext) {
  for (const service of STACK_SERVICES) await service.install(context)
}

export interface StackUpOptions {
  /**
   * Chain nodes (by service name) neither installed, started nor prepared: for a caller that
   * has no use for them (the test run, whose Solana suites start validators of their own; a
   * machine that has not built a node yet). Any other name is an error.
   */
  readonly leaveStopped?: ReadonlySet<string>
}

/**
 * Installs what is missing, starts what is not running, waits for health, and prepares the
 * application database (role, database, migrations). Idempotent.
 */
export async function stackUp(
  context: StackContext,
  logger: Logger,
  options: StackUpOptions = {},
): Promise<void> {
  const leaveStopped = options.leaveStopped ?? new Set()
  const unknown = [...leaveStopped].filter((name) => !CHAIN_NODES.some((node) => node.service.name === name))
  if (unknown.length > 0) {
    throw new Error(
      `not a chain node of the stack: ${unknown.join(', ')} (one of ${CHAIN_NODES.map((node) => node.service.name).join(', ')})`,
    )
  }
  const chainNodes = CHAIN_NODES.filter((node) => !leaveStopped.has(node.service.name))
  const skipped = new Set(
    CHAIN_NODES.filter((node) => leaveStopped.has(node.service.name)).map((n) => n.service),
  )
  for (const service of STACK_SERVICES) if (!skipped.has(service)) await service.install(context)
  // Postgres, Kafka and the anvils do not depend on each other: start them all, then wait.
  await Promise.all([
    startAndWait(context, postgresService),
    startAndWait(context, kafkaService),
    ...ANVIL_SERVICES.map((service) => startAndWait(context, service)),
    ...chainNodes.map((node) => startAndWait(context, node.service)),
  ])
  // Contracts go on each local chain once; the record in .veridis/deployments says where.
  for (const chain of LOCAL_ANVILS) {
    const { deployment, outcome } = await ensureDeployed({
      rpcUrl: anvilRpcUrl(chain.port),
      home: context.config.home,
    })
    context.progress(`${chain.name}: contracts ${outcome} (${deployment.chain}, record in deployments/)`)
  }
  const chainsFile = writeLocalChainConfig(context.config.home)
  context.progress(`local chains: configuration written to ${chainsFile}`)
  for (const node of chainNodes) await node.prepare(context)
  const bridgesFile = writeLocalBridgeConfig(context.config.home)
  if (bridgesFile) context.progress(`local bridges: guard configuration written to ${bridgesFile}`)
  const url = new URL(context.config.database.url)
  await ensureRoleAndDatabase(context, {
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.replace(/^\//, ''),
  })
  const pool = createPool(context.config.database, logger, 'veridis-migrate')
  try {
    const applied = await migrate(pool)
    if (applied.length > 0) context.progress(`postgres: applied migrations ${applied.join(', ')}`)
  } finally {
    await pool.end()
  }
  await startAndWait(context, registryService)
}

/**
 * The Cairo contracts on the local devnet (declared and deployed once; the devnet keeps its
 * state across restarts), its configuration for the StarkNet listener and writer, and the
 * relayer's development key (a predeployed account: public, like anvil's) among the local
 * secrets, where the nullifier writer finds it when no key is configured.
 */
async function deployOnDevnet(context: StackContext) {
  const rpcUrl = devnetRpcUrl(LOCAL_DEVNET.port)
  const { deployment, outcome } = await ensureStarknetDeployed({ rpcUrl, home: context.config.home })
  context.progress(`${LOCAL_DEVNET.name}: contracts ${outcome} (${deployment.chain}, record in deployments/)`)
  const relayer = await devnetAccount(rpcUrl, STARKNET_DEV_ACCOUNT.relayer)
  ensurePrivateDir(context.layout.secretsDir)
  writeFileSync(
    path.join(context.layout.secretsDir, 'starknet-relayer.json'),
    `${JSON.stringify({ chain: deployment.chain, account: relayer.address, privateKey: relayer.privateKey })}\n`,
    { mode: 0o600 },
  )
  context.progress(
    `local chains: StarkNet configuration written to ${writeLocalStarknetConfig(context.config.home)}`,
  )
}

/** Stops the stack's services, in reverse start order; `only` limits it to the services named. */
export async function stackDown(context: StackContext, only?: ReadonlySet<string>): Promise<void> {
  for (const service of [...STACK_SERVICES].reverse()) {
    if (only && !only.has(service.name)) continue
    context.progress(`${service.name}: ${await service.stop(context)}`)
  }
}

export async function stackStatus(context: StackContext) {
  const rows = await Promise.all(
    STACK_SERVICES.map(async (service) => {
      const pid = service.pid(context)
      const healthy = pid !== undefined && (await service.isHealthy(context))
      return {
        name: service.name,
        pid,
        healthy,
        detail: service.describe(context),
        log: service.logFile(context),
      }
    }),
  )
  // A cluster shows each node, its process and the partition leaders it holds.
  if (context.layout.kafkaNodes.length === 1) return rows
  const nodes = await kafkaNodeStatus(context)
  return rows.flatMap((row) => (row.name === kafkaService.name ? nodes : [row]))
}
