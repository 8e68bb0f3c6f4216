import { randomUUID } from 'node:crypto'
import type { TransactionReceipt, TransactionResponse } from 'ethers'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { FINALITY_RANK } from '../../core/bus/finality.ts'
import type { Command, Finality } from '../../core/bus/types.ts'
import { kafkaNodeStatus } from '../../infra/stack/kafka.ts'
import type { KafkaNode } from '../../infra/stack/layout.ts'
import type { Gateway } from '../../producers/gateway/index.ts'
import {
  chainEntry,
  cleanListenerRows,
  collectChainEvents,
  startListener,
  startTestChain,
  type TestChain,
  writeEvmConfig,
} from '../evm/support.ts'
import { bearer, cleanReadModels, startTestGateway, VALID_BODIES } from '../gateway/support.ts'
import { readTopic, recordCount } from '../gateway/topic-reader.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import { startKafkaCluster, type TestKafkaCluster } from '../support/kafka-cluster.ts'

/**
 * The delivery guarantees on a three-broker cluster (replication 3, min.insync.replicas 2,
 * idempotent acks=all producers) when brokers go away under load: the gateway takes
 * commands over HTTP and the EVM listener follows a real anvil while a leader is killed
 * (SIGKILL) and later restarted, and while all three are restarted in turn. Afterwards every
 * command the gateway acknowledged and every chain event is on its topic exactly once (by
 * id), and the ledger and command read models — real consumer processes that kept running
 * through it — applied each exactly once.
 */
let cluster: TestKafkaCluster
let testBus: TestBus
let chain: TestChain
let gateway: Gateway
let listener: ListenerProcess
let seen: Awaited<ReturnType<typeof collectChainEvents>>
const consumers: ConsumerProcess[] = []

const COMMAND_URL = '/api/v1/analysis/transaction'
/** A client gives up after this long of 503s for one command: the cluster never came back for it. */
const REFUSED_FOR_MS = 120_000
/** Batches of nullifiers used so far on the chain, across tests: a nullifier is used once. */
let nullifierBatches = 0
/**
 * Every command acknowledged in this file, by any test: the tests share one namespace and so
 * one command topic, which the later test reads back whole.
 */
const everyAcknowledged = new Set<string>()
/** Load still running when a test ends (it failed part-way): stopped before the next one. */
const loads: { stop(): Promise<unknown> }[] = []

beforeAll(async () => {
  const step = (what: string) => process.stderr.write(`[cluster test] ${new Date().toISOString()} ${what}\n`)
  cluster = await startKafkaCluster(3)
  step('cluster up')
  testBus = await openTestBus(undefined, cluster.env)
  seen = await collectChainEvents(testBus)
  step('topics provisioned, collector running')
  chain = await startTestChain()
  listener = await startListener({
    namespace: testBus.namespace,
    configFile: writeEvmConfig([chainEntry(chain)]),
    chains: [chain.chain],
    env: cluster.env,
  })
  step(`anvil ${chain.chain} up, listener started`)
  for (const name of ['ledger', 'projector'])
    consumers.push(await startConsumerProcess({ name, namespace: testBus.namespace, env: cluster.env }))
  step('consumers ready')
  await untilReady(listener, 'listener')
  // A publish waits out a leader election (a few seconds) instead of answering 503 at once.
  gateway = await startTestGateway(testBus, { ...cluster.env, VERIDIS_GATEWAY_PUBLISH_TIMEOUT_MS: '15000' })
  step('listener and gateway ready')
}, 600_000)

afterEach(async () => {
  for (const load of loads.splice(0)) await load.stop().catch(() => undefined)
})

afterAll(async () => {
  await gateway?.close().catch(() => undefined)
  await listener?.kill('SIGKILL')
  for (const consumer of consumers) await consumer.kill('SIGKILL')
  await seen?.stop()
  await chain?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, chain ? [chain.chain] : [])
    await cleanReadModels(testBus, ['USER:alice'])
    await testBus.pool.query('DELETE FROM gateway_idempotency WHERE caller = $1', ['USER:alice'])
    await testBus.close()
  }
  await cluster?.down()
}, 180_000)

/**
 * Load from both producers until stopped: commands through the gateway, as a careful client
 * sends them (an Idempotency-Key each, the same key again after a 503), and bursts of
 * NullifierUsed logs on the chain. Resolves with what was acknowledged.
 */
function startLoad() {
  const acknowledged = new Map<string, string>() // idempotency key → command id
  const receipts: (TransactionReceipt | null)[] = []
  let refusals = 0
  let running = true
  const sendCommand = async (key: string) => {
    const headers = { ...(await bearer('alice', ['analyst'])), 'idempotency-key': key }
    const giveUpAt = Date.now() + REFUSED_FOR_MS
    for (;;) {
      const response = await gateway.app.inject({
        method: 'POST',
        url: COMMAND_URL,
        payload: VALID_BODIES[COMMAND_URL],
        headers,
      })
      if (response.statusCode === 202) return (response.json() as { commandId: string }).commandId
      // 503: not accepted, send again; 409 request_in_progress: an earlier try of this key is
      // still being decided (docs/gateway.md) — both are answered by the same key, later.
      const retryLater =
        response.statusCode === 503 ||
        (response.statusCode === 409 && response.json<{ error: string }>().error === 'request_in_progress')
      if (!retryLater) throw new Error(`gateway answered ${response.statusCode}: ${response.body}`)
      if (Date.now() > giveUpAt) {
        const ready = await gateway.ops.inject({ url: '/ready' })
        throw new Error(
          `gateway refused one command for ${REFUSED_FOR_MS / 1000} s: ${response.body}; /ready ${ready.body}`,
        )
      }
      refusals += 1
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  const commandWorker = async () => {
    while (running) {
      const key = `cluster-${randomUUID()}`
      const commandId = await sendCommand(key)
      acknowledged.set(key, commandId)
      everyAcknowledged.add(commandId)
    }
  }
  const registry = chain.contract('NullifierRegistry')
  const chainWorker = async () => {
    while (running) {
      nullifierBatches += 1
      const nullifiers = Array.from({ length: 10 }, (_, i) => BigInt(nullifierBatches * 10 + i))
      // One transaction at a time, each mined before the next (anvil mines on arrival): a
      // transaction that does not get mined fails here, at once and with the chain's view of
      // it, instead of leaving every later one queued behind its nonce.
      const sent: TransactionResponse = await registry.getFunction('recordUses')(42n, nullifiers, 9n)
      receipts.push(await minedReceipt(sent))
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  const workers = [...Array.from({ length: 6 }, commandWorker), chainWorker()]
  let stopped: Promise<TransactionReceipt[]> | undefined
  const load = {
    acknowledged,
    refusals: () => refusals,
    stop() {
      running = false
      stopped ??= (async () => {
        await Promise.all(workers)
        return receipts.filter((receipt): receipt is TransactionReceipt => receipt !== null)
      })()
      return stopped
    },
  }
  loads.push(load)
  return load
}

/**
 * The receipt of a sent transaction, asked of anvil directly. Not `sent.wait()`: in two runs
 * under this load ethers' block subscription missed mined transactions (anvil had mined
 * them, the account's nonce past theirs, an empty pool) and timed out.
 */
async function minedReceipt(sent: TransactionResponse): Promise<TransactionReceipt> {
  const giveUpAt = Date.now() + 30_000
  for (;;) {
    const receipt = await chain.provider.getTransactionReceipt(sent.hash)
    if (receipt !== null) return receipt
    if (Date.now() > giveUpAt) throw new Error(`not mined in 30 s: ${await chainView(sent)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** What anvil knows of a transaction that was not mined: its nonce against the account's. */
async function chainView(sent: TransactionResponse): Promise<string> {
  const [latest, pending, pool, mined] = await Promise.all([
    chain.rpc('eth_getTransactionCount', [sent.from, 'latest']),
    chain.rpc('eth_getTransactionCount', [sent.from, 'pending']),
    chain.rpc('txpool_status').catch((error: Error) => error.message),
    chain.rpc('eth_getTransactionByHash', [sent.hash]),
  ])
  return `tx ${sent.hash} nonce ${sent.nonce}; account nonce latest ${Number(latest)} pending ${Number(pending)}; txpool ${JSON.stringify(pool)}; anvil knows the tx: ${mined !== null}`
}

async function ledgerApplied(): Promise<number> {
  const { rows } = await testBus.pool.query<{ total: string }>(
    'SELECT COALESCE(SUM(events_total), 0) AS total FROM chain_event_stats WHERE topic LIKE $1',
    [`${testBus.namespace}.%`],
  )
  return Number(rows[0]!.total)
}

/** The node that leads most partitions of the topics the load writes to. */
async function busiestLeader(): Promise<KafkaNode> {
  const led = new Map<number, number>()
  for (const topic of [testBus.bus.topics.command.name, testBus.bus.topics.nullifier.name])
    for (const partition of await cluster.partitions(topic))
      led.set(partition.leader, (led.get(partition.leader) ?? 0) + 1)
  const [leader] = [...led.entries()].sort((a, b) => b[1] - a[1])[0]!
  return cluster.nodes.find((node) => node.id === leader)!
}

/**
 * Everything the run produced, read back: each command acknowledged so far (this test's and
 * the earlier ones') once on the command topic, and this test's once in read_commands; each chain fact of the receipts on the nullifier topic,
 * every (event id, finality) once; the ledger applied exactly the distinct ones.
 */
async function expectEachOnce(acknowledged: Map<string, string>, receipts: readonly TransactionReceipt[]) {
  const { command, nullifier } = testBus.bus.topics
  const wanted = new Set(acknowledged.values())
  expect([...wanted].every((id) => everyAcknowledged.has(id))).toBe(true)
  // Offsets count records (the command topic has no transaction markers): exactly one each.
  const onTopic = await recordCount(testBus, command.name)
  const records = await readTopic(testBus, command.name, onTopic, 120_000)
  const perId = new Map<string, number>()
  for (const record of records) {
    const id = (record.decoded as Command).commandId
    perId.set(id, (perId.get(id) ?? 0) + 1)
  }
  const missing = [...everyAcknowledged].filter((id) => !perId.has(id))
  expect({ onTopic, missing }).toEqual({ onTopic: everyAcknowledged.size, missing: [] })
  expect([...perId.keys()].sort()).toEqual([...everyAcknowledged].sort())
  expect([...perId.values()].filter((count) => count !== 1)).toEqual([])

  const facts = new Set(
    receipts.flatMap((receipt) => receipt.logs.map((log) => `${receipt.hash.toLowerCase()}:${log.index}`)),
  )
  const ofChain = () => seen.of(chain.chain).filter((event) => event.topic === 'nullifier')
  await eventually(
    async () => {
      const got = new Set(
        ofChain().map((event) => `${event.value.envelope.txHash}:${event.value.envelope.logIndex}`),
      )
      return [...facts].every((fact) => got.has(fact)) ? true : undefined
    },
    120_000,
    'every chain fact on the nullifier topic',
  )
  // Records, not deliveries: the collector's group moves its coordinator during a broker's
  // restart and is handed some records again (the same topic position).
  const positions = new Map<string, Set<string>>()
  for (const event of ofChain()) {
    const id = `${event.value.envelope.eventId}:${event.value.envelope.finality}`
    positions.set(id, (positions.get(id) ?? new Set()).add(event.position))
  }
  const twice = [...positions.entries()]
    .filter(([, at]) => at.size !== 1)
    .map(([id, at]) => [id, [...at]] as const)
  // What the listener said of its publishing (its log is otherwise not kept): why it resent.
  if (twice.length > 0)
    console.log(
      listener
        .output()
        .split('\n')
        .filter((line) => /"level":"(warn|error)"/.test(line) && !line.includes('"component":"kafkajs"'))
        .slice(0, 30)
        .join('\n'),
    )
  expect(twice).toEqual([])

  // The read models, fed by consumers that stayed up through the broker loss.
  const distinctChainRecords = new Set(
    seen.events.map((event) => `${event.value.envelope.eventId}:${event.value.envelope.finality}`),
  ).size
  await eventually(
    async () => ((await ledgerApplied()) >= distinctChainRecords ? true : undefined),
    120_000,
    'the ledger to apply every chain event',
  )
  expect(await ledgerApplied()).toBe(distinctChainRecords)
  // One ledger row per fact, at the furthest finality the topic holds for it.
  const furthest = new Map<string, Finality>()
  for (const { value } of seen.events) {
    const held = furthest.get(value.envelope.eventId)
    if (held === undefined || FINALITY_RANK[value.envelope.finality as Finality] > FINALITY_RANK[held])
      furthest.set(value.envelope.eventId, value.envelope.finality as Finality)
  }
  const ledgerRows = await testBus.pool.query<{ event_id: string; finality: string }>(
    'SELECT event_id, finality FROM chain_events WHERE event_id = ANY($1)',
    [[...furthest.keys()]],
  )
  expect(new Map(ledgerRows.rows.map((row) => [row.event_id, row.finality]))).toEqual(furthest)
  await eventually(
    async () => {
      const { rows } = await testBus.pool.query<{ count: string }>(
        'SELECT count(*) FROM read_commands WHERE source_topic = $1 AND command_id = ANY($2)',
        [command.name, [...wanted]],
      )
      return Number(rows[0]!.count) === wanted.size ? true : undefined
    },
    120_000,
    'every acknowledged command in read_commands',
  )
  expect(nullifier.name).toContain(testBus.namespace)
}

describe('Kafka cluster: brokers lost under load', () => {
  test('behavior: SIGKILL of the busiest leader mid-run, restarted later: every acknowledged command and chain event once, consumers carry on', async () => {
    const load = startLoad()
    await eventually(
      async () => (load.acknowledged.size >= 50 && (await ledgerApplied()) >= 20 ? true : undefined),
      120_000,
      'load flowing through the cluster',
    )
    const victim = await busiestLeader()
    // `status` rows of the cluster: every node a broker, the victim leading partitions.
    const before = await kafkaNodeStatus(cluster.context)
    expect(before.map((row) => [row.name, row.healthy])).toEqual(
      cluster.nodes.map((n) => [`kafka-${n.id}`, true]),
    )
    expect(before.find((row) => row.name === `kafka-${victim.id}`)!.detail).toMatch(
      /leads [1-9]\d* partitions/,
    )
    await cluster.kill(victim)
    // The survivors answer for themselves once the quorum has noticed (an election: seconds).
    const expected = cluster.nodes.map((n) => [`kafka-${n.id}`, n.id !== victim.id])
    await eventually(
      async () => {
        const after = await kafkaNodeStatus(cluster.context)
        return JSON.stringify(after.map((row) => [row.name, row.healthy])) === JSON.stringify(expected)
          ? true
          : undefined
      },
      60_000,
      'status: the victim down, the others healthy',
    )
    const atKill = { commands: load.acknowledged.size, applied: await ledgerApplied() }
    // The leaders move; producers and consumers follow them without a restart.
    await eventually(
      async () => {
        const leaders = await cluster.partitions(testBus.bus.topics.command.name)
        return leaders.every((partition) => partition.leader !== victim.id && partition.leader >= 0)
          ? true
          : undefined
      },
      60_000,
      'every command partition led by a surviving broker',
    )
    await eventually(
      async () =>
        load.acknowledged.size >= atKill.commands + 100 && (await ledgerApplied()) >= atKill.applied + 50
          ? true
          : undefined,
      120_000,
      'commands acknowledged and chain events applied with a broker down',
    )
    await cluster.startMissing()
    await cluster.untilFullyReplicated([testBus.bus.topics.command.name, testBus.bus.topics.nullifier.name])
    const receipts = await load.stop()
    console.log(
      `broker ${victim.id} killed: ${load.acknowledged.size} commands acknowledged (${load.refusals()} 503s retried), ${receipts.length} chain transactions`,
    )
    await expectEachOnce(load.acknowledged, receipts)
  }, 900_000)

  test('behavior: a rolling restart of all three brokers under load loses and doubles nothing', async () => {
    const load = startLoad()
    await eventually(
      async () => (load.acknowledged.size >= 30 ? true : undefined),
      120_000,
      'load flowing through the cluster',
    )
    const topics = [testBus.bus.topics.command.name, testBus.bus.topics.nullifier.name]
    for (const node of cluster.nodes) {
      const before = load.acknowledged.size
      await cluster.stop(node)
      await cluster.startMissing()
      await cluster.untilFullyReplicated(topics)
      // Traffic kept going through each restart.
      await eventually(
        async () => (load.acknowledged.size > before + 20 ? true : undefined),
        60_000,
        `commands acknowledged across the restart of broker ${node.id}`,
      )
    }
    const receipts = await load.stop()
    console.log(
      `rolling restart: ${load.acknowledged.size} commands acknowledged (${load.refusals()} 503s retried), ${receipts.length} chain transactions`,
    )
    await expectEachOnce(load.acknowledged, receipts)
  }, 900_000)
})
