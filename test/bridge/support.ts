import { randomInt } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type BaseWallet, getBytes } from 'ethers'
import { HEADER } from '../../core/bus/producer.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'
import {
  chainEntry,
  cleanListenerRows,
  DEV_ACCOUNT,
  devWallet,
  type ListenerProcess,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../evm/support.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import { startTcpProxy } from '../support/tcp-proxy.ts'

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
  await eventually(async () => ((await listener.ready()) ? true : undefined), 60_000, 'listener ready')
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
