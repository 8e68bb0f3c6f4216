import { randomInt } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type BaseWallet, getBytes } from 'ethers'
import { parseGuardConfig } from '../../core/bridge/config.ts'
import { HEADER } from '../../core/bus/producer.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
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
import { openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'
import { type Bridge, type BridgeOptions, deployBridge, TOKEN } from './exploits/support/bridge.ts'
import { ChainDriver, TOKEN_ABI } from './exploits/support/engine.ts'

/**
 * A bridge between two real anvil chains of the test file's own, a real listener publishing
 * their gateways' events in the file's namespace, and `veridis consume bridge-guard` as a
 * real child process guarding them. Each chain is asked through two endpoints (the node and a
 * TCP proxy in front of it), so source confirmation needs two answers, as in production.
 */
export interface BridgeWorld {
  readonly testBus: TestBus
  readonly a: TestChain
  readonly b: TestChain
  readonly bridgeId: string
  readonly listener: ListenerProcess
  readonly configFile: string
  readonly alerts: { key: string; eventId: string; value: Alert }[]
  startGuard(env?: NodeJS.ProcessEnv): Promise<ConsumerProcess>
  /** A normal transfer: lock on `from`, guardians sign, release on `to`. */
  transfer(
    from: TestChain,
    to: TestChain,
    amount: bigint,
  ): Promise<{ lockTx: string; releaseTx: string; messageId: string }>
  /** A release signed by real guardian keys for a message never locked at the source (compromised keys). */
  releaseUnbacked(
    from: TestChain,
    to: TestChain,
    amount: bigint,
    options?: { nonce?: bigint; recipient?: string; signers?: readonly BaseWallet[] },
  ): Promise<{ releaseTx: string; messageId: string }>
  alertsOf(detection: string): Alert[]
  close(): Promise<void>
}

export const USER = DEV_ACCOUNT.user
export const guardianWallets = () =>
  DEV_ACCOUNT.guardians
    .map((index) => devWallet(index))
    .sort((x, y) => (BigInt(x.address) < BigInt(y.address) ? -1 : 1))

export async function startBridgeWorld(
  options: { blockTime?: number; config?: (config: GuardConfigFile) => void } = {},
): Promise<BridgeWorld> {
  const testBus = await openTestBus()
  const chainOptions = options.blockTime === undefined ? {} : { blockTime: options.blockTime }
  const [a, b] = await Promise.all([startTestChain(chainOptions), startTestChain(chainOptions)])
  const entry = (chain: TestChain) =>
    chainEntry(chain, options.blockTime === undefined ? {} : { wsUrl: chain.wsUrl })
  const listener = await startListener({
    namespace: testBus.namespace,
    configFile: writeEvmConfig([entry(a), entry(b)]),
    chains: [a.chain, b.chain],
  })
  await untilReady(listener, 'listener')
  const proxies = await Promise.all(
    [a, b].map((chain) => startTcpProxy({ host: '127.0.0.1', port: Number(new URL(chain.url).port) })),
  )
  const bridgeId = `t-${testBus.namespace}`
  const config = guardConfig(bridgeId, [
    { chain: a, proxyUrl: `http://127.0.0.1:${proxies[0]!.port}` },
    { chain: b, proxyUrl: `http://127.0.0.1:${proxies[1]!.port}` },
  ])
  options.config?.(config)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veridis-guard-'))
  const configFile = path.join(dir, 'bridges.json')
  writeFileSync(configFile, JSON.stringify(config, null, 2))

  const alerts: BridgeWorld['alerts'] = []
  const { bus } = testBus
  const collector = bus.kafka.consumer({ groupId: `${testBus.namespace}.collector-${randomInt(1e9)}` })
  await collector.connect()
  await collector.subscribe({ topics: [bus.topics.alert.name], fromBeginning: true })
  await collector.run({
    eachMessage: async ({ message }) => {
      alerts.push({
        key: (await bus.codec.decodeKey(message.key)) ?? '',
        eventId: message.headers?.[HEADER.eventId]?.toString() ?? '',
        value: (await bus.codec.decodeValue(bus.topics.alert.name, message.value)) as Alert,
      })
    },
  })
  const guards: ConsumerProcess[] = []
  const nonces = new Map<string, bigint>()

  const release = async (
    from: TestChain,
    to: TestChain,
    amount: bigint,
    nonce: bigint,
    recipient: string,
    signers: readonly BaseWallet[],
  ) => {
    const gateway = to.contract('BridgeGateway', DEV_ACCOUNT.user)
    const messageId = (await gateway.getFunction('messageIdOf')(
      from.chainId,
      from.deployment.contracts.BridgeGateway,
      nonce,
    )) as string
    const token = to.deployment.contracts.BridgeToken
    const digest = (await gateway.getFunction('releaseDigest')(
      0,
      token,
      recipient,
      amount,
      messageId,
    )) as string
    const signatures = await Promise.all(signers.map((signer) => signer.signMessage(getBytes(digest))))
    const tx = await gateway.getFunction('release')(
      0,
      token,
      recipient,
      amount,
      from.chainId,
      from.deployment.contracts.BridgeGateway,
      nonce,
      signatures,
    )
    await tx.wait()
    return { releaseTx: tx.hash as string, messageId: messageId.toLowerCase() }
  }

  return {
    testBus,
    a,
    b,
    bridgeId,
    listener,
    configFile,
    alerts,
    async startGuard(env = {}) {
      const guard = await startConsumerProcess({
        name: 'bridge-guard',
        namespace: testBus.namespace,
        env: { VERIDIS_BRIDGE_GUARD_CONFIG: configFile, ...env },
      })
      guards.push(guard)
      return guard
    },
    async transfer(from, to, amount) {
      const user = devWallet(USER).address
      const token = from.contract('BridgeToken', USER)
      await (await token.getFunction('approve')(from.deployment.contracts.BridgeGateway, amount)).wait()
      const gateway = from.contract('BridgeGateway', USER)
      // Transfers of one world are sent one at a time: the nonce read is the lock's.
      const nonce = (await gateway.getFunction('nextNonce')()) as bigint
      const lock = await gateway.getFunction('lock')(0, token.target, amount, to.chainId, user)
      await lock.wait()
      const released = await release(from, to, amount, nonce, user, guardianWallets().slice(0, 2))
      return { lockTx: lock.hash as string, ...released }
    },
    async releaseUnbacked(from, to, amount, unbacked = {}) {
      const key = from.chain
      const nonce = unbacked.nonce ?? (nonces.get(key) ?? 1_000_000n) + 1n
      nonces.set(key, nonce)
      return release(
        from,
        to,
        amount,
        nonce,
        unbacked.recipient ?? devWallet(DEV_ACCOUNT.spare[0]!).address,
        unbacked.signers ?? guardianWallets().slice(0, 2),
      )
    },
    alertsOf: (detection) =>
      alerts.filter((alert) => alert.value.detection === detection).map((alert) => alert.value),
    async close() {
      for (const guard of guards) await guard.kill('SIGKILL')
      await listener.kill('SIGKILL')
      await collector.disconnect()
      for (const proxy of proxies) await proxy.close()
      await Promise.all([a.stop(), b.stop()])
      await cleanGuardRows(testBus, bridgeId, [a.chain, b.chain])
      await cleanListenerRows(testBus, [a.chain, b.chain])
      await testBus.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type GuardConfigFile = ReturnType<typeof guardConfig>

function guardConfig(bridgeId: string, chains: readonly { chain: TestChain; proxyUrl: string }[]) {
  const deployments = chains.map(({ chain }) => chain.deployment)
  return {
    chains: Object.fromEntries(
      chains.map(({ chain, proxyUrl }) => [
        chain.chain,
        { rpcUrls: [chain.url, proxyUrl], minConfirmations: 2 },
      ]),
    ),
    bridges: [
      {
        id: bridgeId,
        kind: 'guardian-quorum',
        gateways: Object.fromEntries(deployments.map((d) => [d.chain, d.contracts.BridgeGateway])),
        startBlocks: Object.fromEntries(deployments.map((d) => [d.chain, d.startBlock])),
        minThreshold: 2,
        governance: { senders: [deployments[0]!.roles.admin] },
        operators: Object.fromEntries(
          deployments[0]!.roles.guardians.map((g, i) => [g, `operator-${i + 1}`]),
        ),
        tokens: [
          {
            symbol: 'vBRG',
            addresses: Object.fromEntries(deployments.map((d) => [d.chain, d.contracts.BridgeToken])),
          },
        ],
        cooldownMs: 600_000,
      } as Record<string, unknown>,
    ],
  }
}

/** Removes the guard's rows about this world's chains and bridge from the shared tables. */
export async function cleanGuardRows(testBus: TestBus, bridgeId: string, chains: readonly string[]) {
  const { pool } = testBus
  await pool.query(
    `DELETE FROM bridge_findings WHERE subject_chain = ANY($1)
       OR alert_id IN (SELECT alert_id FROM bridge_incidents WHERE scope LIKE $2 OR scope LIKE ANY($3))`,
    [chains, `${bridgeId}:%`, chains.map((chain) => `${chain}:%`)],
  )
  await pool.query(
    `DELETE FROM bridge_alert_outbox WHERE alert_id IN
       (SELECT alert_id FROM bridge_incidents WHERE scope LIKE $1 OR scope LIKE ANY($2))`,
    [`${bridgeId}:%`, chains.map((chain) => `${chain}:%`)],
  )
  await pool.query('DELETE FROM bridge_incidents WHERE scope LIKE $1 OR scope LIKE ANY($2)', [
    `${bridgeId}:%`,
    chains.map((chain) => `${chain}:%`),
  ])
  for (const table of ['bridge_locks', 'bridge_releases', 'bridge_events_judged']) {
    await pool.query(`DELETE FROM ${table} WHERE chain = ANY($1)`, [chains])
  }
}

/** Alert records on the namespace's alert topic, from the beginning, decoded as they arrive. */
export async function collectAlerts(testBus: TestBus) {
  const alerts: { key: string; eventId: string; value: Alert; receivedAt: number }[] = []
  const { bus } = testBus
  const collector = bus.kafka.consumer({ groupId: `${testBus.namespace}.collector-${randomInt(1e9)}` })
  await collector.connect()
  await collector.subscribe({ topics: [bus.topics.alert.name], fromBeginning: true })
  await collector.run({
    eachMessage: async ({ message }) => {
      const receivedAt = Date.now()
      alerts.push({
        key: (await bus.codec.decodeKey(message.key)) ?? '',
        eventId: message.headers?.[HEADER.eventId]?.toString() ?? '',
        value: (await bus.codec.decodeValue(bus.topics.alert.name, message.value)) as Alert,
        receivedAt,
      })
    },
  })
  return { alerts, stop: () => collector.disconnect() }
}

/** A token's limits on a guarded bridge, in whole tokens. */
export interface GuardedTokenLimits {
  readonly singleTransfer: bigint
  readonly daily: bigint
  readonly dailyLock: bigint
}

/**
 * The guard's configuration for a bridge deployed by deployBridge, as an operator would write
 * it: its two gateways and token pair with limits, the deployed quorum as the minimum, the
 * bridge admin as the only governance sender, each guardian its own operator, proof of reserves
 * with custody on the home chain, and two endpoints per chain (the node and `proxyUrls`).
 */
export function bridgeGuardConfig(
  bridgeId: string,
  bridge: Bridge,
  options: {
    readonly proxyUrls: { readonly home: string; readonly remote: string }
    readonly limits: GuardedTokenLimits
  },
): GuardConfigFile {
  const { home, remote } = bridge
  const tokens = (amount: bigint) => (amount * TOKEN).toString()
  return {
    chains: {
      [home.chain.chain]: { rpcUrls: [home.chain.url, options.proxyUrls.home], minConfirmations: 2 },
      [remote.chain.chain]: { rpcUrls: [remote.chain.url, options.proxyUrls.remote], minConfirmations: 2 },
    },
    bridges: [
      {
        id: bridgeId,
        kind: 'guardian-quorum',
        gateways: { [home.chain.chain]: home.gateway, [remote.chain.chain]: remote.gateway },
        startBlocks: {
          [home.chain.chain]: home.deployedAtBlock,
          [remote.chain.chain]: remote.deployedAtBlock,
        },
        minThreshold: home.threshold,
        governance: { senders: [bridge.admin.address] },
        operators: Object.fromEntries(
          home.guardians.map((guardian, i) => [guardian.address, `operator-${i + 1}`]),
        ),
        tokens: [
          {
            symbol: 'VTT',
            addresses: { [home.chain.chain]: home.token, [remote.chain.chain]: remote.token },
            singleTransferLimit: tokens(options.limits.singleTransfer),
            dailyLimit: tokens(options.limits.daily),
            dailyLockLimit: tokens(options.limits.dailyLock),
            reserves: { custodyChain: home.chain.chain },
          },
        ],
        pendingSlaMs: 10 * 60_000,
        cooldownMs: 600_000,
      },
    ],
  }
}

/**
 * A bridge deployed fresh by deployBridge (test/bridge/exploits/support) on two test chains of
 * its own, a real listener watching its gateways, and the guard as a child process
 * (`startGuard`) configured by bridgeGuardConfig. The home vault can be given custody up front
 * (`custody`, whole tokens minted straight to the gateway): a vault with history, so that a
 * day's normal unlocks are a small share of it, as on a bridge in service.
 */
export interface GuardedBridge {
  readonly testBus: TestBus
  readonly bridge: Bridge
  readonly bridgeId: string
  readonly listener: ListenerProcess
  readonly config: GuardConfigFile
  readonly configFile: string
  readonly alerts: Awaited<ReturnType<typeof collectAlerts>>['alerts']
  startGuard(env?: NodeJS.ProcessEnv): Promise<ConsumerProcess>
  /** The listener's published head on `chain` (its cursor block). */
  listenerAt(chain: TestChain): Promise<number>
  close(): Promise<void>
}

export async function startGuardedBridge(options: {
  readonly limits: GuardedTokenLimits
  readonly blockTime?: number
  readonly bridge?: BridgeOptions
  readonly custody?: bigint
  readonly config?: (config: GuardConfigFile) => void
}): Promise<GuardedBridge> {
  const testBus = await openTestBus()
  const chainOptions = options.blockTime === undefined ? {} : { blockTime: options.blockTime }
  const [home, remote] = await Promise.all([startTestChain(chainOptions), startTestChain(chainOptions)])
  const bridge = await deployBridge({ home, remote }, options.bridge)
  if (options.custody) {
    await ChainDriver.of(home).sendNow(
      bridge.admin,
      bridge.home.token,
      TOKEN_ABI.encodeFunctionData('mint', [bridge.home.gateway, options.custody * TOKEN]),
      120_000n,
      'custody already in the home vault',
    )
  }
  const entry = (side: Bridge['home']) =>
    chainEntry(side.chain, {
      ...(options.blockTime === undefined ? {} : { wsUrl: side.chain.wsUrl }),
      contracts: { bridgeGateway: side.gateway },
      startBlock: side.deployedAtBlock,
    })
  const listener = await startListener({
    namespace: testBus.namespace,
    configFile: writeEvmConfig([entry(bridge.home), entry(bridge.remote)]),
    chains: [home.chain, remote.chain],
  })
  await untilReady(listener, 'listener')
  const proxies = await Promise.all(
    [home, remote].map((chain) =>
      startTcpProxy({ host: '127.0.0.1', port: Number(new URL(chain.url).port) }),
    ),
  )
  const bridgeId = `b-${testBus.namespace}`
  const config = bridgeGuardConfig(bridgeId, bridge, {
    proxyUrls: {
      home: `http://127.0.0.1:${proxies[0]!.port}`,
      remote: `http://127.0.0.1:${proxies[1]!.port}`,
    },
    limits: options.limits,
  })
  options.config?.(config)
  // A mistake in the configuration fails here, with its path, not in the child's log.
  parseGuardConfig(config, 'startGuardedBridge')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veridis-guard-'))
  const configFile = path.join(dir, 'bridges.json')
  writeFileSync(configFile, JSON.stringify(config, null, 2))
  const collected = await collectAlerts(testBus)
  const guards: ConsumerProcess[] = []
  const chains = [home.chain, remote.chain]

  return {
    testBus,
    bridge,
    bridgeId,
    listener,
    config,
    configFile,
    alerts: collected.alerts,
    async startGuard(env = {}) {
      const guard = await startConsumerProcess({
        name: 'bridge-guard',
        namespace: testBus.namespace,
        env: { VERIDIS_BRIDGE_GUARD_CONFIG: configFile, ...env },
      })
      guards.push(guard)
      return guard
    },
    async listenerAt(chain) {
      const { rows } = await testBus.pool.query<{ cursor_block: string }>(
        'SELECT cursor_block FROM chain_listener_cursor WHERE listener = $1 AND chain = $2',
        [testBus.namespace, chain.chain],
      )
      return rows[0] ? Number(rows[0].cursor_block) : -1
    },
    async close() {
      for (const guard of guards) await guard.kill('SIGKILL')
      await listener.kill('SIGKILL')
      await collected.stop()
      for (const proxy of proxies) await proxy.close()
      await Promise.all([home.stop(), remote.stop()])
      await cleanGuardRows(testBus, bridgeId, chains)
      await cleanGuardMonitorRows(testBus, bridgeId, chains)
      await cleanListenerRows(testBus, chains)
      await testBus.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Removes the guard's flow buckets, guardian activity and reserves checks of one bridge. */
export async function cleanGuardMonitorRows(testBus: TestBus, bridgeId: string, chains: readonly string[]) {
  const { pool } = testBus
  await pool.query('DELETE FROM bridge_flow_buckets WHERE bridge_id = $1', [bridgeId])
  await pool.query('DELETE FROM bridge_reserve_checks WHERE bridge_id = $1', [bridgeId])
  await pool.query('DELETE FROM bridge_guardian_activity WHERE chain = ANY($1)', [chains])
}

/**
 * A reorg of `depth` blocks at the head of `chain` in which every orphaned transaction is mined
 * again, in the same order and at the same offset: new block hashes, the same effects — the
 * common reorg, where the losing fork's transactions return in the winner's blocks. The
 * listener sees the orphaned blocks' events RETRACTED and the same transactions as new events.
 */
export async function reorgReincluding(chain: TestChain, depth: number) {
  const tip = await chain.blockNumber()
  const first = tip - depth + 1
  const pairs: [string, number][] = []
  const orphaned: string[] = []
  for (let number = first; number <= tip; number++) {
    const block = await chain.rpc<{ hash: string; transactions: string[] }>('eth_getBlockByNumber', [
      `0x${number.toString(16)}`,
      false,
    ])
    orphaned.push(block.hash)
    for (const hash of block.transactions) {
      pairs.push([await chain.rpc<string>('eth_getRawTransactionByHash', [hash]), number - first])
    }
  }
  await chain.rpc('anvil_reorg', [depth, pairs])
  const after = await chain.rpc<{ hash: string }>('eth_getBlockByNumber', [`0x${tip.toString(16)}`, false])
  if ((await chain.blockNumber()) !== tip || after.hash === orphaned.at(-1)) {
    throw new Error(`reorg of depth ${depth} on ${chain.chain} did not replace block ${tip}`)
  }
  return { tip, depth, transactions: pairs.length }
}
