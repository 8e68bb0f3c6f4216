import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { TxResult } from '../../producers/chains/cosmos/rpc/schemas.ts'
import { cleanListenerRows, collectChainEvents } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, freePort, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  startCosmosListener,
  startTestWasmd,
  type TestWasmd,
  wasmdEntry,
  writeCosmosConfig,
} from './support.ts'

/**
 * SIGKILL of `veridis listen cosmos` in the middle of a burst of nullifier uses: after a restart
 * every use is published (the durable cursor moves only after Kafka acknowledged), each fact
 * under exactly one event id however often it was repeated, all FINALIZED. The listener's first
 * endpoint is a closed port: every call fails over to the real node.
 */
let testBus: TestBus
let node: TestWasmd
let listener: ListenerProcess | undefined
let seen: Awaited<ReturnType<typeof collectChainEvents>>
let configFile: string

beforeAll(async () => {
  testBus = await openTestBus()
  node = await startTestWasmd()
  const dead = `http://127.0.0.1:${await freePort()}`
  configFile = writeCosmosConfig([wasmdEntry(node, { rpcUrls: [dead, node.url], maxBlockRange: 3 })])
  seen = await collectChainEvents(testBus)
}, 300_000)

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  await node?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, node ? [node.chain] : [])
    await testBus.close()
  }
})

const start = () => startCosmosListener({ namespace: testBus.namespace, configFile, chains: [node.chain] })
const BURST = 16

describe('Cosmos listener: crash during a burst', () => {
  test('behavior: SIGKILL mid-burst and restart: every use published FINALIZED, one id per fact; a dead first endpoint fails over', async () => {
    listener = await start()
    await untilReady(listener!, 'listener')
    const txs: TxResult[] = []
    let killedAt = -1
    for (let i = 0; i < BURST; i++) {
      txs.push(await node.recordUse(31n, BigInt(1000 + i)))
      if (i === BURST / 2) {
        killedAt = seen.of(node.chain).length
        await listener.kill('SIGKILL')
      }
    }
    expect(killedAt).toBeGreaterThan(0)
    expect(killedAt).toBeLessThan(BURST)
    listener = await start()
    // Its start-up is not what is measured: on a loaded machine the CLI alone can take a minute.
    await untilReady(listener!, 'restarted listener')

    const expected = new Set(txs.map((tx) => tx.hash))
    expect(expected.size).toBe(BURST)
    const published = () =>
      new Set(
        seen
          .of(node.chain)
          .filter((event) => event.topic === 'nullifier' && event.value.envelope.finality === 'FINALIZED')
          .map((event) => event.value.envelope.txHash),
      )
    await eventually(
      async () => ([...expected].every((fact) => published().has(fact)) ? true : undefined),
      120_000,
      'every use of the burst',
    )
    const idsByFact = new Map<string, Set<string>>()
    for (const event of seen.of(node.chain)) {
      expect(event.topic).toBe('nullifier')
      expect(event.value.envelope.finality).toBe('FINALIZED')
      expect(event.headerEventId).toBe(event.value.envelope.eventId)
      const ids = idsByFact.get(event.value.envelope.txHash) ?? new Set()
      ids.add(event.value.envelope.eventId)
      idsByFact.set(event.value.envelope.txHash, ids)
    }
    expect(new Set(idsByFact.keys())).toEqual(expected)
    for (const ids of idsByFact.values()) expect(ids.size).toBe(1)
    // The closed first endpoint was tried and counted; the node behind the second served.
    expect(await listener.metrics()).toMatch(/veridis_chain_rpc_errors_total\{[^}]*\} [1-9]/)
  }, 480_000)
})
