import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { chainEventId } from '../../producers/chains/common/event-id.ts'
import { cleanListenerRows, collectChainEvents, type SeenEvent } from '../evm/support.ts'
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
 * A rollback the test validator can be made to do: stop it, copy its ledger, start it again,
 * write a use, and once the listener has published it PENDING (confirmed, not yet
 * finalized), kill the validator and start it from the copy. The chain resumes from the
 * copied slot and produces other blocks at the slots the listener published: the engine sees
 * other hashes at published heights and RETRACTs exactly the events of the dropped blocks.
 * (solana-test-validator has no fork RPC and is the only leader: a dropped `processed` slot
 * never happens on its own.) The window is ~32 slots: the listener's finalized slot
 * must still be below the copy's last slot when the validator is killed; the test validator
 * runs with 1.2-second slots for that.
 */
let testBus: TestBus
let validator: TestValidator
let listener: ListenerProcess
let configFile: string
let seen: Awaited<ReturnType<typeof collectChainEvents>>

beforeAll(async () => {
  testBus = await openTestBus()
  // 1.2-second slots: the listener must see the use before its slot is finalized (32 slots).
  validator = await startTestValidator({ ticksPerSlot: 192 })
  configFile = writeSolanaConfig([validatorEntry(validator, { pollIntervalMs: 100 })])
  listener = await startSolanaListener({
    namespace: testBus.namespace,
    configFile,
    chains: [validator.chain],
  })
  seen = await collectChainEvents(testBus)
  await untilReady(listener, 'listener')
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

async function startListener() {
  listener = await startSolanaListener({
    namespace: testBus.namespace,
    configFile,
    chains: [validator.chain],
  })
  await untilReady(listener, 'listener')
}

const idOf = (sent: Sent) =>
  chainEventId({
    chain: validator.chain,
    blockHash: sent.blockhash,
    txHash: sent.signature,
    logIndex: sent.index * 256 + 1,
  })

function waitFor(eventId: string, finality: string, timeoutMs: number): Promise<SeenEvent> {
  return eventually(
    async () =>
      seen.events.find(
        (event) => event.value.envelope.eventId === eventId && event.value.envelope.finality === finality,
      ),
    timeoutMs,
    `${finality} event ${eventId}`,
  )
}

describe('Solana listener: a rollback to an earlier ledger', () => {
  test('behavior: the use in the dropped blocks is RETRACTED, and nothing else', async () => {
    const kept = await validator.use(71n, 1n)
    // Final before the ledger is copied: nothing the copy point decides can touch it. About
    // 40 s at 1.2-s slots; a cap for a loaded machine, where slots stretch.
    await waitFor(idOf(kept), 'FINALIZED', 240_000)
    // The listener is stopped while the ledger is copied, so it is not in a retry backoff
    // when the 13-second window opens.
    await listener.kill()
    await validator.halt('SIGTERM')
    const copy = validator.copyLedger()
    await validator.resume()
    const [, dropped] = await Promise.all([startListener(), validator.use(71n, 2n)])
    await waitFor(idOf(dropped), 'PENDING', 20_000)
    await validator.halt('SIGKILL')
    validator.restoreLedger(copy)
    await validator.resume()

    await waitFor(idOf(dropped), 'RETRACTED', 120_000)
    expect(
      await validator.connection.getSignatureStatus(dropped.signature, { searchTransactionHistory: true }),
    ).toMatchObject({
      value: null,
    })
    expect(await validator.isUsed(71n, 2n)).toBe(false)
    const retracted = seen
      .of(validator.chain)
      .filter((event) => event.value.envelope.finality === 'RETRACTED')
      .map((event) => event.value.envelope.eventId)
    expect(retracted).toEqual([idOf(dropped)])
    // The use can be made again on the chain as it is now: a new fact, a new event id.
    const again = await validator.use(71n, 2n)
    expect(idOf(again)).not.toBe(idOf(dropped))
    await waitFor(idOf(again), 'PENDING', 30_000)
  }, 480_000)
})
