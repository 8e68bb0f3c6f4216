import { randomInt } from 'node:crypto'
import { Contract, type InterfaceAbi } from 'ethers'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { HEADER } from '../../core/bus/producer.ts'
import { inTransaction, type PoolClient } from '../../core/db/pool.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import type { NullifierPropagation } from '../../schemas/generated/veridis.nullifier.propagation.v1.ts'
import {
  chainEntry,
  cleanListenerRows,
  DEV_ACCOUNT,
  devWallet,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'

export type { ConsumerProcess }

/**
 * Two real anvil chains of the test file's own (so reorgs and kills never touch the stack's
 * chains, and the relayer account has one writer per chain), a real listener and a real
 * `veridis consume nullifiers` child process in the file's namespace.
 */
export const RELAYER = devWallet(DEV_ACCOUNT.relayer).address

export interface NullifierWorld {
  readonly testBus: TestBus
  readonly a: TestChain
  readonly b: TestChain
  readonly listener: ListenerProcess
  readonly configFile: string
  /** A scope of this file's own, so rows of concurrent files never meet. */
  readonly scope: bigint
  startConsumer(env?: NodeJS.ProcessEnv): Promise<ConsumerProcess>
  readonly alerts: Collected<Alert>
  readonly outcomes: Collected<NullifierPropagation>
  /** The registry of `chain` as the PROTOCOL account (dev account 1, this file's chains only). */
  protocolRegistry(chain: TestChain): Contract
  close(): Promise<void>
}

export interface Collected<T> {
  readonly records: { key: string; eventId: string; value: T }[]
  stop(): Promise<void>
}

/** Every record of `topic` from the beginning, decoded, through a real consumer of its own group. */
export async function collect<T>(testBus: TestBus, topic: string): Promise<Collected<T>> {
  const { bus } = testBus
  const consumer = bus.kafka.consumer({ groupId: `${testBus.namespace}.collector-${randomInt(1e9)}` })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  const records: Collected<T>['records'] = []
  await consumer.run({
    eachMessage: async ({ message }) => {
      records.push({
        key: (await bus.codec.decodeKey(message.key)) ?? '',
        eventId: message.headers?.[HEADER.eventId]?.toString() ?? '',
        value: (await bus.codec.decodeValue(topic, message.value)) as T,
      })
    },
  })
  return { records, stop: () => consumer.disconnect() }
}

export async function startNullifierWorld(options: { blockTime?: number } = {}): Promise<NullifierWorld> {
  const testBus = await openTestBus()
  const chainOptions = options.blockTime === undefined ? {} : { blockTime: options.blockTime }
  const [a, b] = await Promise.all([startTestChain(chainOptions), startTestChain(chainOptions)])
  // With timed blocks, new heads arrive over the websocket instead of waiting for a poll.
  const entry = (chain: TestChain) =>
    chainEntry(chain, options.blockTime === undefined ? {} : { wsUrl: chain.wsUrl })
  const configFile = writeEvmConfig([entry(a), entry(b)])
  const listener = await startListener({
    namespace: testBus.namespace,
    configFile,
    chains: [a.chain, b.chain],
  })
  await untilReady(listener, 'listener')
  const alerts = await collect<Alert>(testBus, testBus.bus.topics.alert.name)
  const outcomes = await collect<NullifierPropagation>(testBus, testBus.bus.topics.propagation.name)
  const consumers: ConsumerProcess[] = []
  const scope = BigInt(randomInt(1, 2 ** 47))

  async function startConsumer(env: NodeJS.ProcessEnv = {}): Promise<ConsumerProcess> {
    const consumer = await startConsumerProcess({
      name: 'nullifiers',
      namespace: testBus.namespace,
      env: { VERIDIS_EVM_CONFIG: configFile, VERIDIS_RELAYER_CHAINS: `${a.chain},${b.chain}`, ...env },
    })
    consumers.push(consumer)
    return consumer
  }

  return {
    testBus,
    a,
    b,
    listener,
    configFile,
    scope,
    startConsumer,
    alerts,
    outcomes,
    protocolRegistry: (chain) =>
      new Contract(
        chain.deployment.contracts.NullifierRegistry,
        loadArtifact('NullifierRegistry').abi as InterfaceAbi,
        chain.signer(DEV_ACCOUNT.protocol),
      ),
    async close() {
      for (const consumer of consumers) await consumer.kill('SIGKILL')
      await listener.kill('SIGKILL')
      await alerts.stop()
      await outcomes.stop()
      await Promise.all([a.stop(), b.stop()])
      const { pool } = testBus
      await pool.query('DELETE FROM nullifier_propagations WHERE scope = $1', [scope.toString()])
      await pool.query('DELETE FROM nullifier_alerts WHERE scope = $1', [scope.toString()])
      await pool.query('DELETE FROM nullifier_status WHERE scope = $1', [scope.toString()])
      await pool.query('DELETE FROM nullifier_uses WHERE scope = $1', [scope.toString()])
      await cleanListenerRows(testBus, [a.chain, b.chain])
      await testBus.close()
    },
  }
}

/**
 * Rows of the projection tables for one nullifier of the world's scope, read in one snapshot:
 * the consumer changes several tables in one transaction, and reads on separate connections
 * could see one table before that commit and another after it.
 */
export function projection(world: NullifierWorld, nullifier: bigint) {
  return inTransaction(world.testBus.pool, async (client) => {
    await client.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY')
    return projectionIn(client, world, nullifier)
  })
}

async function projectionIn(client: PoolClient, world: NullifierWorld, nullifier: bigint) {
  const params = [world.scope.toString(), nullifier.toString()]
  // In REPEATABLE READ the snapshot is taken by the first query and holds for the rest.
  const uses = await client.query<{ event_id: string; chain: string; source: string; finality: string }>(
    'SELECT event_id, chain, source, finality FROM nullifier_uses WHERE scope = $1 AND nullifier = $2 ORDER BY arrival',
    params,
  )
  const status = await client.query<{
    status: string
    first_event_id: string | null
    first_chain: string | null
  }>(
    'SELECT status, first_event_id, first_chain FROM nullifier_status WHERE scope = $1 AND nullifier = $2',
    params,
  )
  const propagations = await client.query<{
    source_event_id: string
    source_chain: string
    target_chain: string
    state: string
    outcome: string | null
    tx_hash: string | null
    nonce: string | null
    reason: string | null
    source_retracted: boolean
    dropped_tx_hashes: string[]
    published: boolean
  }>(
    `SELECT source_event_id, source_chain, target_chain, state, outcome, tx_hash, nonce::text AS nonce, reason,
       source_retracted, dropped_tx_hashes, published_at IS NOT NULL AS published
     FROM nullifier_propagations WHERE scope = $1 AND nullifier = $2 ORDER BY created_at`,
    params,
  )
  const alerts = await client.query<{ alert_id: string }>(
    'SELECT alert_id FROM nullifier_alerts WHERE scope = $1 AND nullifier = $2',
    params,
  )
  return { uses: uses.rows, status: status.rows[0], propagations: propagations.rows, alerts: alerts.rows }
}

/** NullifierRelayed logs of one nullifier on a chain's registry. */
export async function relayedLogs(chain: TestChain, scope: bigint, nullifier: bigint) {
  const registry = new Contract(
    chain.deployment.contracts.NullifierRegistry,
    loadArtifact('NullifierRegistry').abi as InterfaceAbi,
    chain.provider,
  )
  return registry.queryFilter(registry.filters.NullifierRelayed!(scope, nullifier), 0, 'latest')
}

export { DEV_ACCOUNT, eventually }
