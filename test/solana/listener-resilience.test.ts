import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { cleanListenerRows, collectChainEvents } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  type Sent,
  startSolanaListener,
  startTestValidator,
  type TestValidator,
  validatorEntry,
  writeSolanaConfig,
} from './support.ts'

/**
 * SIGKILL of `veridis listen solana` in the middle of a burst of nullifier uses: after a
 * restart every use is published (the durable cursor moves only after Kafka acknowledged),
 * each fact under exactly one event id however often it was repeated, and every one ends
 * FINALIZED.
 */
let testBus: TestBus
let validator: TestValidator
let listener: ListenerProcess | undefined
let seen: Awaited<ReturnType<typeof collectChainEvents>>
let configFile: string

beforeAll(async () => {
  testBus = await openTestBus()
  validator = await startTestValidator()
  configFile = writeSolanaConfig([validatorEntry(validator, { maxHeadBatch: 3 })])
  seen = await collectChainEvents(testBus)
}, 240_000)

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  await validator?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, validator ? [validator.chain] : [])
    await testBus.close()
  }
})

const start = () =>
  startSolanaListener({ namespace: testBus.namespace, configFile, chains: [validator.chain] })
const BURST = 16

describe('Solana listener: crash during a burst', () => {
  test('behavior: SIGKILL mid-burst and restart: every use published, one id per fact, all FINALIZED', async () => {
    listener = await start()
    await untilReady(listener!, 'listener')
    const sent: Sent[] = []
    let killedAt = -1
    for (let i = 0; i < BURST; i++) {
      sent.push(await validator.use(31n, BigInt(1000 + i)))
      if (i === BURST / 2) {
        killedAt = seen.of(validator.chain).length
        await listener.kill('SIGKILL')
      }
    }
    expect(killedAt).toBeGreaterThan(0)
    expect(killedAt).toBeLessThan(BURST)
    listener = await start()

    const expected = new Set(sent.map((use) => use.signature))
    expect(expected.size).toBe(BURST)
    const published = (finality: string) =>
      new Set(
        seen
          .of(validator.chain)
          .filter((event) => event.topic === 'nullifier' && event.value.envelope.finality === finality)
          .map((event) => event.value.envelope.txHash),
      )
    await eventually(
      async () => ([...expected].every((fact) => published('PENDING').has(fact)) ? true : undefined),
      180_000,
      'every use of the burst PENDING',
    )
    await eventually(
      async () => ([...expected].every((fact) => published('FINALIZED').has(fact)) ? true : undefined),
      240_000,
      'every use FINALIZED',
    )
    const idsByFact = new Map<string, Set<string>>()
    for (const event of seen.of(validator.chain).filter((e) => e.topic === 'nullifier')) {
      const ids = idsByFact.get(event.value.envelope.txHash) ?? new Set()
      ids.add(event.value.envelope.eventId)
      expect(event.headerEventId).toBe(event.value.envelope.eventId)
      idsByFact.set(event.value.envelope.txHash, ids)
    }
    expect(new Set(idsByFact.keys())).toEqual(expected)
    for (const ids of idsByFact.values()) expect(ids.size).toBe(1)
  }, 600_000)
})
