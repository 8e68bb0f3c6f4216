import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { collectChainEvents, DEV_ACCOUNT, type TestChain } from '../evm/support.ts'
import {
  type ConsumerProcess,
  eventually,
  type NullifierWorld,
  projection,
  RELAYER,
  relayedLogs,
  startNullifierWorld,
} from './support.ts'

/**
 * Double uses and reorgs on real chains: the same nullifier used on both chains before
 * propagation completes gives exactly one alert naming both uses; a use a reorg removes is
 * shown retracted and never causes an alert — neither when it was propagated already, nor
 * when it collided with a use on the other chain; a reorg on the target chain that removes the
 * relayed copy gets the same transaction back on chain, never a second one.
 */
let world: NullifierWorld
let consumer: Promise<ConsumerProcess> | undefined
/** The consumer is started once, by whichever test needs it first. */
const ensureConsumer = () => {
  consumer ??= world.startConsumer()
  return consumer
}
let seen: Awaited<ReturnType<typeof collectChainEvents>>

// The test listener finalizes a block 3 confirmations deep; automine makes one block per tx.
const FINALIZE = 4

beforeAll(async () => {
  world = await startNullifierWorld()
  seen = await collectChainEvents(world.testBus)
}, 120_000)

afterAll(async () => {
  await seen?.stop()
  await world?.close()
})

const useOn = async (chain: TestChain, nullifier: bigint) => {
  const receipt = await (
    await world.protocolRegistry(chain).getFunction('recordUse')(world.scope, nullifier, 9n)
  ).wait()
  expect(receipt?.status).toBe(1)
  return receipt!
}

/** Chain events of this nullifier on `chain` in the given finality, as the listener published them. */
const published = (chain: TestChain, nullifier: bigint, finality: string) =>
  seen
    .of(chain.chain)
    .filter(
      (event) => event.value.nullifier === nullifier.toString() && event.value.envelope.finality === finality,
    )

const alertsFor = (nullifier: bigint) =>
  world.alerts.records.filter((record) => record.value.details.nullifier === nullifier.toString())

/** Removes the chain's latest block; the orphaned transaction's nonce is free again. */
async function reorgLatestBlock(chain: TestChain) {
  await chain.rpc('anvil_reorg', [1, []])
  chain.signer(DEV_ACCOUNT.protocol).reset()
}

describe('nullifiers: double use', () => {
  test('behavior: the same nullifier used on both chains before propagation → exactly one alert naming both uses', async () => {
    const { a, b } = world
    const nullifier = 3_000_001n
    // Both uses land before any consumer runs, so propagation cannot come between them.
    const [onA, onB] = await Promise.all([useOn(a, nullifier), useOn(b, nullifier)])
    await Promise.all([a.mine(FINALIZE), b.mine(FINALIZE)])
    await ensureConsumer()

    const alert = await eventually(async () => alertsFor(nullifier)[0], 60_000, 'double-use alert')
    expect(alert.value).toMatchObject({ kind: 'DOUBLE_NULLIFIER_USE', severity: 'CRITICAL' })
    expect(alert.key).toBe(alert.value.alertId)
    const evidence = alert.value.evidence.map((item) => [item.chain, item.txHash])
    expect(evidence).toHaveLength(2)
    expect(new Set(evidence.map(([chain, tx]) => `${chain}|${tx}`))).toEqual(
      new Set([`${a.chain}|${onA.hash}`, `${b.chain}|${onB.hash}`]),
    )

    // The first use's propagation finds the other chain's own use: nothing is written.
    const view = await eventually(
      async () => {
        const rows = await projection(world, nullifier)
        return rows.propagations[0]?.published ? rows : undefined
      },
      60_000,
      'propagation of the first use',
    )
    expect(view.status?.status).toBe('DOUBLE_USE')
    expect(view.propagations).toHaveLength(1)
    expect(view.propagations[0]).toMatchObject({ outcome: 'ALREADY_PRESENT', tx_hash: null })
    expect(view.alerts).toHaveLength(1)
    const ids = new Set(view.uses.map((use) => use.event_id))
    expect(new Set(alert.value.evidence.map((item) => item.eventId))).toEqual(ids)

    // Exactly one, even after more blocks and redelivered finality changes.
    await Promise.all([a.mine(2), b.mine(2)])
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(alertsFor(nullifier)).toHaveLength(1)
  }, 180_000)
})

describe('nullifiers: reorgs', () => {
  test('behavior: a propagated use removed by a reorg is shown retracted, no alert; the re-used nullifier is already present on B', async () => {
    const { a, b } = world
    const nullifier = 3_000_002n
    await ensureConsumer()
    const first = await useOn(a, nullifier)
    await eventually(
      async () => world.outcomes.records.find((record) => record.value.nullifier === nullifier.toString()),
      60_000,
      'first propagation',
    )
    await reorgLatestBlock(a)
    expect(await world.protocolRegistry(a).getFunction('isUsed')(world.scope, nullifier)).toBe(false)

    const retracted = await eventually(
      async () => {
        const rows = await projection(world, nullifier)
        return rows.status?.status === 'RETRACTED' ? rows : undefined
      },
      60_000,
      'projection shows the use retracted',
    )
    const orphaned = retracted.uses.find((use) => use.chain === a.chain && use.source === 'PROOF')
    expect(orphaned?.finality).toBe('RETRACTED')
    expect(published(a, nullifier, 'PENDING')[0]?.value.envelope.txHash).toBe(first.hash)
    // The copy on B stays (docs/nullifiers.md: fail closed); the row says its source went away.
    expect(retracted.propagations[0]).toMatchObject({ outcome: 'PROPAGATED', source_retracted: true })

    // The same nullifier used again on A (a new fact in a new block): the use that counts now,
    // already present on B; once final, still no alert.
    const again = await useOn(a, nullifier)
    await Promise.all([a.mine(FINALIZE), b.mine(FINALIZE)])
    const settled = await eventually(
      async () => {
        const rows = await projection(world, nullifier)
        const current = rows.uses.find((use) => use.event_id === rows.status?.first_event_id)
        const redone = rows.propagations.find((row) => row.source_event_id === current?.event_id)
        return current?.finality === 'FINALIZED' && redone?.published ? { rows, current, redone } : undefined
      },
      60_000,
      'second use final and propagated',
    )
    expect(settled.rows.status).toMatchObject({ status: 'USED', first_chain: a.chain })
    expect(published(a, nullifier, 'FINALIZED').map((event) => event.value.envelope.txHash)).toContain(
      again.hash,
    )
    expect(settled.redone).toMatchObject({ outcome: 'ALREADY_PRESENT' })
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    expect(settled.rows.alerts).toEqual([])
    expect(alertsFor(nullifier)).toEqual([])
  }, 180_000)

  test('behavior: uses on both chains seen pending, then one removed by a reorg → no alert, the other use counts', async () => {
    const { a, b } = world
    const nullifier = 3_000_003n
    await ensureConsumer()
    // A race: both uses land before either can be propagated to the other chain.
    await Promise.all([useOn(a, nullifier), useOn(b, nullifier)])
    // The consumer has seen both, neither final: a double use, if both stay.
    await eventually(
      async () => ((await projection(world, nullifier)).status?.status === 'DOUBLE_USE' ? true : undefined),
      60_000,
      'both uses seen',
    )
    await reorgLatestBlock(a)
    await eventually(async () => published(a, nullifier, 'RETRACTED')[0], 30_000, 'use on A retracted')
    await Promise.all([a.mine(FINALIZE), b.mine(FINALIZE)])

    const view = await eventually(
      async () => {
        const rows = await projection(world, nullifier)
        const fromB = rows.propagations.find((row) => row.source_chain === b.chain)
        const useOnB = rows.uses.find((use) => use.chain === b.chain)
        return fromB?.published && useOnB?.finality === 'FINALIZED' ? { rows, fromB } : undefined
      },
      60_000,
      'the use on B final and propagated to A',
    )
    // A lost its use in the reorg, so B's use is now the one that counts, and is written to A.
    expect(view.rows.status).toMatchObject({ status: 'USED', first_chain: b.chain })
    expect(view.fromB).toMatchObject({ target_chain: a.chain, outcome: 'PROPAGATED' })
    expect(await world.protocolRegistry(a).getFunction('isUsed')(world.scope, nullifier)).toBe(true)
    expect(view.rows.uses.find((use) => use.chain === a.chain && use.source === 'PROOF')?.finality).toBe(
      'RETRACTED',
    )
    await new Promise((resolve) => setTimeout(resolve, 2_000))
    expect((await projection(world, nullifier)).alerts).toEqual([])
    expect(alertsFor(nullifier)).toEqual([])
  }, 180_000)

  test('behavior: a reorg on the target that removes the relayed copy → the same transaction lands again, no second one', async () => {
    const { a, b } = world
    const nullifier = 3_000_004n
    await ensureConsumer()
    await useOn(a, nullifier)
    const first = await eventually(
      async () => world.outcomes.records.find((record) => record.value.nullifier === nullifier.toString()),
      60_000,
      'first propagation',
    )
    expect(first.value.outcome).toBe('PROPAGATED')
    // The copy is seen coming back on B before B's block is taken away.
    await eventually(
      async () => {
        const rows = await projection(world, nullifier)
        return rows.uses.some((use) => use.chain === b.chain && use.source === 'RELAYER') ? true : undefined
      },
      30_000,
      'relayed copy recorded',
    )
    const nonceBefore = await b.provider.getTransactionCount(RELAYER)
    await b.rpc('anvil_reorg', [1, []])

    const again = await eventually(
      async () =>
        world.outcomes.records.find(
          (record) => record.value.nullifier === nullifier.toString() && record.value.at > first.value.at,
        ),
      60_000,
      'outcome after the reorg on B',
    )
    expect(again.value).toMatchObject({
      outcome: 'PROPAGATED',
      txHash: first.value.txHash,
      targetChain: b.chain,
    })
    expect(again.eventId).not.toBe(first.eventId)
    expect(await world.protocolRegistry(b).getFunction('isUsed')(world.scope, nullifier)).toBe(true)
    // The same transaction, re-included: the relayer's nonce is where it was before the reorg.
    expect(await b.provider.getTransactionCount(RELAYER)).toBe(nonceBefore)
    const relayed = await relayedLogs(b, world.scope, nullifier)
    expect(relayed.map((log) => log.transactionHash)).toEqual([first.value.txHash])
    expect((await projection(world, nullifier)).alerts).toEqual([])
  }, 180_000)
})
