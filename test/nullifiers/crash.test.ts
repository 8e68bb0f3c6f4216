import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  eventually,
  type NullifierWorld,
  projection,
  RELAYER,
  relayedLogs,
  startNullifierWorld,
} from './support.ts'

/**
 * The consumer killed (SIGKILL, by a test-only fault hook) between sending a propagation
 * transaction and recording its outcome, and before sending it at all: after a restart
 * there is exactly one transaction on the target chain — the one recorded before the
 * crash — and exactly one correct outcome record.
 */
let world: NullifierWorld

beforeAll(async () => {
  world = await startNullifierWorld()
}, 120_000)

afterAll(async () => {
  await world?.close()
})

async function crashThenRecover(nullifier: bigint, fault: 'kill-after-broadcast' | 'kill-after-sign') {
  const { a, b, scope } = world
  const nonceBefore = await b.provider.getTransactionCount(RELAYER)
  const crashing = await world.startConsumer({ VERIDIS_RELAYER_FAULT: fault })
  await (await world.protocolRegistry(a).getFunction('recordUse')(scope, nullifier, 5n)).wait()
  const exit = await crashing.exited
  expect(exit.signal).toBe('SIGKILL')

  // What the dead process left: the intent with the signed transaction's hash and nonce.
  const [intent] = (await projection(world, nullifier)).propagations
  expect(intent).toMatchObject({ state: 'SENT', target_chain: b.chain, nonce: String(nonceBefore) })
  expect(intent!.tx_hash).toMatch(/^0x[0-9a-f]{64}$/)
  const sentBeforeCrash = await b.provider.getTransaction(intent!.tx_hash!)
  if (fault === 'kill-after-broadcast') expect(sentBeforeCrash).not.toBeNull()
  else expect(sentBeforeCrash).toBeNull()

  const recovered = await world.startConsumer()
  const outcome = await eventually(
    async () => world.outcomes.records.find((record) => record.value.nullifier === nullifier.toString()),
    60_000,
    'outcome after restart',
  )
  expect(outcome.value).toMatchObject({
    outcome: 'PROPAGATED',
    txHash: intent!.tx_hash,
    targetChain: b.chain,
  })

  // Exactly one transaction: the relayer's nonce moved by one, one NullifierRelayed log.
  expect(await b.provider.getTransactionCount(RELAYER)).toBe(nonceBefore + 1)
  const logs = await relayedLogs(b, scope, nullifier)
  expect(logs.map((log) => log.transactionHash)).toEqual([intent!.tx_hash])
  const [row] = (await projection(world, nullifier)).propagations
  expect(row).toMatchObject({ state: 'DONE', outcome: 'PROPAGATED', published: true, dropped_tx_hashes: [] })

  // One outcome record for the propagation, however often the chunk was delivered.
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  expect(
    world.outcomes.records.filter((record) => record.value.nullifier === nullifier.toString()),
  ).toHaveLength(1)
  await recovered.kill('SIGTERM')
}

describe('nullifier propagation: crash recovery', () => {
  test('behavior: SIGKILL right after broadcasting; restart finds the transaction, sends no second one', async () => {
    await crashThenRecover(2_000_001n, 'kill-after-broadcast')
  }, 180_000)

  test('behavior: SIGKILL after recording the signed transaction, before broadcasting; restart sends the same bytes', async () => {
    await crashThenRecover(2_000_002n, 'kill-after-sign')
  }, 180_000)
})
