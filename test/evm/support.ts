import { randomInt } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Contract, type InterfaceAbi, type JsonRpcProvider, NonceManager } from 'ethers'
import { DEV_ACCOUNT, devWallet } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { type Deployment, ensureDeployed } from '../../contracts/evm/deploy.ts'
import { openPollingProvider } from '../../contracts/evm/provider.ts'
import { HEADER } from '../../core/bus/producer.ts'
import { startAnvil } from '../../infra/stack/anvil.ts'
import type { EvmChainEntry } from '../../producers/chains/evm/config.ts'
import { type ChainListenerOptions, startChainListener, writeChainConfig } from '../support/chain-listener.ts'
import { eventually, freePort, type TestBus } from '../support/harness.ts'

/**
 * Real chains and a real listener process for the EVM tests. Every test chain is an anvil
 * of its own (random port, unusual chain id) with the contracts freshly deployed, so tests
 * can reorg, mine and break it without touching the stack's shared anvils.
 */
export interface TestChain {
  readonly chain: string
  readonly chainId: number
  readonly url: string
  readonly wsUrl: string
  readonly deployment: Deployment
  readonly provider: JsonRpcProvider
  signer(index: number): NonceManager
  contract(
    name: 'AttestationRegistry' | 'NullifierRegistry' | 'BridgeGateway' | 'BridgeToken',
    signerIndex?: number,
  ): Contract
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>
  mine(blocks?: number): Promise<void>
  restart(): Promise<void>
  blockNumber(): Promise<number>
  stop(): Promise<void>
}

export async function startTestChain(
  options: { blockTime?: number; gasLimit?: bigint; persistState?: boolean } = {},
): Promise<TestChain> {
  const port = await freePort()
  const chainId = randomInt(900_000, 999_999)
  const home = mkdtempSync(path.join(os.tmpdir(), 'veridis-evm-'))
  const anvilOptions = {
    chainId,
    port,
    blockTime: options.blockTime,
    gasLimit: options.gasLimit,
    stateFile: options.persistState ? path.join(home, 'anvil-state.json') : undefined,
  }
  let anvil = await startAnvil(anvilOptions)
  const { deployment } = await ensureDeployed({ rpcUrl: anvil.url, home })
  const provider = openPollingProvider(anvil.url, { chainId, pollingMs: 50 })
  const signers = new Map<number, NonceManager>()
  const signer = (index: number) => {
    let existing = signers.get(index)
    if (!existing) {
      existing = new NonceManager(devWallet(index, provider))
      signers.set(index, existing)
    }
    return existing
  }
  return {
    chain: `eip155:${chainId}`,
    chainId,
    url: anvil.url,
    wsUrl: anvil.wsUrl,
    deployment,
    provider,
    signer,
    contract(name, signerIndex = DEV_ACCOUNT.protocol) {
      return new Contract(
        deployment.contracts[name],
        loadArtifact(name).abi as InterfaceAbi,
        signer(signerIndex),
      )
    },
    rpc: (method, params = []) => provider.send(method, params),
    async mine(blocks = 1) {
      await provider.send('anvil_mine', [`0x${blocks.toString(16)}`])
    },
    blockNumber: () => provider.getBlockNumber(),
    /** Stops anvil (SIGTERM: it dumps its state) and starts it again on the same port and state. */
    async restart() {
      await anvil.stop()
      anvil = await startAnvil(anvilOptions)
      await untilPendingNoncesSettle(provider, [...signers.values()])
      for (const existing of signers.values()) existing.reset()
    },
    async stop() {
      await provider.close()
      await anvil.stop()
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/**
 * Waits until a restarted anvil's `pending` nonce of every signer agrees with its mined
 * (`latest`) one. A restarted anvil has an empty pool, so the two must be equal; once (CI,
 * 2026-12-04) a NonceManager reset right after a restart read a `pending` count of 0 for an
 * account whose transaction was mined before the restart, and the next send was refused as
 * "nonce too low". Asked through `send`, which skips ethers' 250-ms cache of identical
 * requests, so what is compared is what the node says now.
 */
async function untilPendingNoncesSettle(provider: JsonRpcProvider, signers: readonly NonceManager[]) {
  const count = async (address: string, tag: 'latest' | 'pending') =>
    Number.parseInt((await provider.send('eth_getTransactionCount', [address, tag])) as string, 16)
  for (const signer of signers) {
    const address = await signer.getAddress()
    await eventually(
      async () => {
        const [latest, pending] = [await count(address, 'latest'), await count(address, 'pending')]
        if (pending === latest) return true
        console.warn(
          `restarted anvil: pending nonce ${pending} of ${address} behind the mined ${latest}; waiting`,
        )
        return undefined
      },
      10_000,
      `the restarted anvil's pending nonce of ${address} to reach its mined one`,
    )
  }
}

/** A listener configuration entry for a test chain. */
export function chainEntry(chain: TestChain, overrides: Partial<EvmChainEntry> = {}): EvmChainEntry {
  return {
    chain: chain.chain,
    rpcUrls: [chain.url],
    finality: { rule: 'confirmations', confirmations: 3 },
    contracts: {
      attestationRegistry: chain.deployment.contracts.AttestationRegistry,
      nullifierRegistry: chain.deployment.contracts.NullifierRegistry,
      bridgeGateway: chain.deployment.contracts.BridgeGateway,
    },
    startBlock: chain.deployment.startBlock,
    pollIntervalMs: 100,
    requestTimeoutMs: 2_000,
    maxHeadBatch: 50,
    ...overrides,
  }
}

export const writeEvmConfig = (entries: readonly EvmChainEntry[]) => writeChainConfig('evm', entries)

/** `veridis listen evm` as a real child process, in the test's namespace. */
export const startListener = (options: ChainListenerOptions) => startChainListener('evm', options)

export interface SeenEvent {
  readonly topic: 'attestation' | 'nullifier' | 'bridge'
  /** Where the record is: a collector redelivered after a rebalance sees one record twice. */
  readonly position: string
  readonly key: string
  readonly headerEventId: string
  readonly value: {
    envelope: {
      eventId: string
      chain: string
      blockNumber: number
      blockHash: string
      txHash: string
      logIndex: number
      emitter: string
      finality: string
      observedAt: number
    }
    [field: string]: unknown
  }
}

/** Reads the namespace's three chain-event topics from the beginning, Avro-decoded. */
export async function collectChainEvents(testBus: TestBus) {
  const { bus } = testBus
  const topicKeys = {
    [bus.topics.attestation.name]: 'attestation',
    [bus.topics.nullifier.name]: 'nullifier',
    [bus.topics.bridge.name]: 'bridge',
  } as const
  const consumer = bus.kafka.consumer({ groupId: `${testBus.namespace}.collector-${randomInt(1e9)}` })
  await consumer.connect()
  await consumer.subscribe({ topics: Object.keys(topicKeys), fromBeginning: true })
  const events: SeenEvent[] = []
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      events.push({
        topic: topicKeys[topic]!,
        position: `${topic}:${partition}:${message.offset}`,
        key: (await bus.codec.decodeKey(message.key)) ?? '',
        headerEventId: message.headers?.[HEADER.eventId]?.toString() ?? '',
        value: (await bus.codec.decodeValue(topic, message.value)) as SeenEvent['value'],
      })
    },
  })
  return {
    events,
    of: (chain: string) => events.filter((event) => event.value.envelope.chain === chain),
    stop: () => consumer.disconnect(),
  }
}

/** Removes what a test listener wrote to the shared tables. */
export async function cleanListenerRows(testBus: TestBus, chains: readonly string[]) {
  for (const table of ['chain_listener_events', 'chain_listener_blocks', 'chain_listener_cursor']) {
    await testBus.pool.query(`DELETE FROM ${table} WHERE listener = $1`, [testBus.namespace])
  }
  await testBus.pool.query('DELETE FROM chain_listener_state WHERE chain = ANY($1)', [chains])
}

export { DEV_ACCOUNT, devWallet }
