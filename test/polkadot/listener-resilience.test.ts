import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { cleanListenerRows, collectChainEvents } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  chopsticksEntry,
  type Included,
  startPolkadotListener,
  startTestChopsticks,
  type TestChopsticks,
  writePolkadotConfig,
} from './support.ts'

/**
 * SIGKILL of `veridis listen polkadot` in the middle of a burst of nullifier uses on a real
 * chopsticks chain: after a restart every use is published (the cursor moves only after
 * Kafka acknowledged), each under exactly one event id however often it was repeated, and
 * every one ends FINALIZED.
 */
let testBus: TestBus
let node: TestChopsticks
let listener: ListenerProcess | undefined
let seen: Awaited<ReturnType<typeof collectChainEvents>>
let configFile: string

beforeAll(async () => {
  testBus = await openTestBus()
  node = await startTestChopsticks()
  configFile = writePolkadotConfig([chopsticksEntry(node, { maxHeadBatch: 3 })])
  seen = await collectChainEvents(testBus)
}, 240_000)

afterAll(async () => {
  await listener?.kill('SIGKILL')
  await seen?.stop()
  await node?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, node ? [node.chain] : [])
    await testBus.close()
  }
})

const start = () => startPolkadotListener({ namespace: testBus.namespace, configFile, chains: [node.chain] })
const BURST = 12

describe('Polkadot listener: crash during a burst', () => {
  test('behavior: SIGKILL mid-burst and restart: every use published, one id per fact, all FINALIZED', async () => {
    listener = await start()
    await untilReady(listener!, 'listener')
    const included: Included[] = []
    let killedAt = -1
    for (let i = 0; i < BURST; i++) {
      included.push(
        await node.record({ t: 'NullifierUsed', scope: '31', nullifier: String(5000 + i), root: '1' }),
      )
      if (i === BURST / 2) {
        await eventually(
          async () => (seen.of(node.chain).length > 0 ? true : undefined),
          60_000,
          'a first use',
        )
        // Uses published so far (each appears PENDING, and FINALIZED two blocks later).
        killedAt = new Set(seen.of(node.chain).map((event) => event.value.envelope.txHash)).size
        await listener.kill('SIGKILL')
      }
    }
    expect(included.every((use) => use.ok)).toBe(true)
    expect(killedAt).toBeGreaterThan(0)
    expect(killedAt).toBeLessThan(BURST)
    listener = await start()
    const expected = new Set(included.map((use) => use.txHash))
    const published = (finality?: string) =>
      new Set(
        seen
          .of(node.chain)
          .filter((event) => finality === undefined || event.value.envelope.finality === finality)
          .map((event) => event.value.envelope.txHash),
      )
    await eventually(
      async () => ([...expected].every((tx) => published().has(tx)) ? true : undefined),
      90_000,
      'every use of the burst',
    )
    await node.newBlocks(2)
    await eventually(
      async () => ([...expected].every((tx) => published('FINALIZED').has(tx)) ? true : undefined),
      90_000,
      'every use FINALIZED',
    )
    const idsByFact = new Map<string, Set<string>>()
    for (const event of seen.of(node.chain)) {
      expect(event.topic).toBe('nullifier')
      expect(event.headerEventId).toBe(event.value.envelope.eventId)
      const ids = idsByFact.get(event.value.envelope.txHash) ?? new Set()
      ids.add(event.value.envelope.eventId)
      idsByFact.set(event.value.envelope.txHash, ids)
    }
    expect(new Set(idsByFact.keys())).toEqual(expected)
    for (const ids of idsByFact.values()) expect(ids.size).toBe(1)
  }, 300_000)
})
