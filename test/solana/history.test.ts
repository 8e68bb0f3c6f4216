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
 * A validator whose ledger is pruned past the listener's start: the listener must say which
 * slots the node no longer keeps and stop that chain, never retry for ever (what the stack's
 * listener did after a restart: "Block 448 cleaned up") and never read on past the gap (the
 * signature index is pruned with the ledger, so a use in a pruned slot would vanish silently).
 *
 * Why the stack's listener met it: agave counts the ledger's shreds in RocksDB's flushed files
 * only, so a running validator hardly prunes, but a restart flushes the write-ahead log and the
 * next cleanup (every ~512 slots) cuts the ledger to its limit at once. Here: 8 ticks per slot
 * (50-ms slots), a 100-shred limit, a restart after 1,000 slots, and the listener started at slot 1.
 */
let testBus: TestBus
let validator: TestValidator
let listener: ListenerProcess | undefined
let seen: Awaited<ReturnType<typeof collectChainEvents>>

beforeAll(async () => {
  testBus = await openTestBus()
  validator = await startTestValidator({ ticksPerSlot: 8, ledgerShreds: 100 })
  // Enough slots that the flushed ledger is well over its limit (~24 shreds a slot here).
  await eventually(
    async () => ((await validator.connection.getSlot()) >= 1_000 ? true : undefined),
    240_000,
    'slot 1,000',
  )
  await validator.halt('SIGTERM')
  await validator.resume()
  seen = await collectChainEvents(testBus)
}, 600_000)

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  await validator?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, validator ? [validator.chain] : [])
    await testBus.close()
  }
})

describe('Solana listener: a start below the node’s history', () => {
  test('behavior: pruned slots are named once, the chain stops, nothing past the gap is published', async () => {
    const firstAvailable = await eventually(
      async () => {
        const first = await validator.connection.getFirstAvailableBlock()
        return first > 1 ? first : undefined
      },
      240_000,
      'the ledger pruned',
    )
    // A use the listener could read, above the gap: it must not be published either, or what
    // the pruned slots held would be skipped without anyone deciding so.
    const later: Sent = await validator.use(41n, 4_101n)
    expect(later.slot).toBeGreaterThanOrEqual(firstAvailable)

    const configFile = writeSolanaConfig([validatorEntry(validator, { startBlock: 1 })])
    listener = await startSolanaListener({
      namespace: testBus.namespace,
      configFile,
      chains: [validator.chain],
    })
    await untilReady(listener, 'listener')

    const message = await eventually(
      async () => {
        const { rows } = await testBus.pool.query<{ last_error: string | null }>(
          'SELECT last_error FROM chain_listener_state WHERE chain = $1',
          [validator.chain],
        )
        const error = rows[0]?.last_error ?? ''
        return /no longer kept/.test(error) ? error : undefined
      },
      120_000,
      'the listener naming the pruned slots',
    )
    expect(message).toContain('slots 1–')
    const [, firstNamed] = /now starts at slot (\d+)/.exec(message) ?? []
    expect(Number(firstNamed)).toBeGreaterThanOrEqual(firstAvailable)
    expect(message).toContain('chain_listener_cursor')
    // The endpoint is named (redacted: a URL's credentials and path never reach the state table).
    expect(message).toContain(`no longer kept by ${new URL(validator.url).origin}`)
    expect(listener.output()).toMatch(/chain stopped: this chain needs attention/)
    expect(listener.output()).not.toMatch(/chain step failed; retrying/)

    // The listener stays stopped on the gap: no event of this chain reached Kafka.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(seen.of(validator.chain)).toEqual([])
  }, 480_000)
})
