import { CallData, cairo } from 'starknet'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { cleanListenerRows, collectChainEvents } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  devnetEntry,
  type Receipt,
  startStarknetListener,
  startTestDevnet,
  type TestDevnet,
  writeStarknetConfig,
} from './support.ts'

/**
 * SIGKILL of `veridis listen starknet` in the middle of a burst of nullifier uses: after a
 * restart every use is published (the durable cursor moves only after Kafka acknowledged),
 * each fact under exactly one event id however often it was repeated, and every one ends
 * FINALIZED once L1 accepts the blocks.
 */
let testBus: TestBus
let devnet: TestDevnet
let listener: ListenerProcess | undefined
let seen: Awaited<ReturnType<typeof collectChainEvents>>
let configFile: string

beforeAll(async () => {
  testBus = await openTestBus()
  devnet = await startTestDevnet()
  configFile = writeStarknetConfig([devnetEntry(devnet, { maxHeadBatch: 3 })])
  seen = await collectChainEvents(testBus)
}, 240_000)

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  await devnet?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, devnet ? [devnet.chain] : [])
    await testBus.close()
  }
})

const start = () =>
  startStarknetListener({ namespace: testBus.namespace, configFile, chains: [devnet.chain] })
const BURST = 16

describe('StarkNet listener: crash during a burst', () => {
  test('behavior: SIGKILL mid-burst and restart: every use published, one id per fact, all FINALIZED after L1 acceptance', async () => {
    listener = await start()
    await untilReady(listener!, 'listener')
    const registry = devnet.deployment.contracts.NullifierRegistry
    const receipts: Receipt[] = []
    let killedAt = -1
    for (let i = 0; i < BURST; i++) {
      receipts.push(
        await devnet.invoke({
          contractAddress: registry,
          entrypoint: 'record_use',
          calldata: CallData.compile({
            scope: cairo.uint256(31n),
            nullifier: cairo.uint256(BigInt(1000 + i)),
            root: cairo.uint256(1n),
          }),
        }),
      )
      if (i === BURST / 2) {
        killedAt = seen.of(devnet.chain).length
        await listener.kill('SIGKILL')
      }
    }
    expect(killedAt).toBeGreaterThan(0)
    expect(killedAt).toBeLessThan(BURST)
    listener = await start()

    const factOf = (txHash: string) => `0x${BigInt(txHash).toString(16)}`
    const expected = new Set(receipts.map((receipt) => factOf(receipt.transaction_hash)))
    expect(expected.size).toBe(BURST)
    const published = (finality?: string) =>
      new Set(
        seen
          .of(devnet.chain)
          .filter((event) => event.topic === 'nullifier')
          .filter((event) => finality === undefined || event.value.envelope.finality === finality)
          .map((event) => event.value.envelope.txHash),
      )
    await eventually(
      async () => ([...expected].every((fact) => published().has(fact)) ? true : undefined),
      60_000,
      'every use of the burst',
    )
    await devnet.rpc('devnet_acceptOnL1', { starting_block_id: 'latest' })
    await eventually(
      async () => ([...expected].every((fact) => published('FINALIZED').has(fact)) ? true : undefined),
      60_000,
      'every use FINALIZED',
    )
    const idsByFact = new Map<string, Set<string>>()
    for (const event of seen.of(devnet.chain).filter((e) => e.topic === 'nullifier')) {
      const ids = idsByFact.get(event.value.envelope.txHash) ?? new Set()
      ids.add(event.value.envelope.eventId)
      expect(event.headerEventId).toBe(event.value.envelope.eventId)
      idsByFact.set(event.value.envelope.txHash, ids)
    }
    expect(new Set(idsByFact.keys())).toEqual(expected)
    for (const ids of idsByFact.values()) expect(ids.size).toBe(1)
  }, 240_000)
})
