import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  type ConsumerProcess,
  DEV_ACCOUNT,
  eventually,
  type NullifierWorld,
  projection,
  RELAYER,
  relayedLogs,
  startNullifierWorld,
} from './support.ts'

/**
 * A use on chain A is copied into chain B's registry by the consumer (from the relayer
 * account, naming A as the origin), one outcome record says so, the latency is measured,
 * and using the nullifier on B afterwards fails on-chain. The relayed copy coming back
 * through the listener is not mistaken for a second use.
 */
let world: NullifierWorld
let consumer: ConsumerProcess

beforeAll(async () => {
  world = await startNullifierWorld()
  consumer = await world.startConsumer()
}, 120_000)

afterAll(async () => {
  await world?.close()
})

describe('nullifier propagation', () => {
  test('behavior: a use on chain A is registered on chain B, and using it on B then fails on-chain', async () => {
    const { a, b, scope } = world
    const nullifier = 1_000_001n
    const root = 42n
    const used = await (
      await world.protocolRegistry(a).getFunction('recordUse')(scope, nullifier, root)
    ).wait()
    expect(used?.status).toBe(1)

    const outcome = await eventually(
      async () =>
        world.outcomes.records.find(
          (record) => record.value.nullifier === nullifier.toString() && record.value.targetChain === b.chain,
        ),
      60_000,
      'propagation outcome',
    )
    expect(outcome.key).toBe(`${scope}:${nullifier}`)
    expect(outcome.value).toMatchObject({
      scope: scope.toString(),
      sourceChain: a.chain,
      targetChain: b.chain,
      outcome: 'PROPAGATED',
      reason: null,
    })
    expect(outcome.value.latencyMs).toBeGreaterThan(0)

    // On chain B: registered, by the relayer, with A as the origin, in the reported transaction.
    const registryB = world.protocolRegistry(b)
    expect(await registryB.getFunction('isUsed')(scope, nullifier)).toBe(true)
    const relayed = await relayedLogs(b, scope, nullifier)
    expect(relayed).toHaveLength(1)
    expect(relayed[0]!.transactionHash).toBe(outcome.value.txHash)
    const tx = await b.provider.getTransaction(outcome.value.txHash!)
    expect(tx?.from).toBe(RELAYER)
    expect((relayed[0] as unknown as { args: { originChain: string } }).args.originChain).toBe(a.chain)

    // Using it on B now fails on-chain.
    await expect(registryB.getFunction('recordUse').staticCall(scope, nullifier, root)).rejects.toThrow(
      /NullifierAlreadyUsed/,
    )
    // Sent anyway (a fixed gas limit skips the estimate): mined, and reverted by the registry.
    const refused = await registryB.getFunction('recordUse')(scope, nullifier, root, { gasLimit: 200_000n })
    await expect(refused.wait()).rejects.toThrow(/CALL_EXCEPTION|reverted/)
    expect((await b.provider.getTransactionReceipt(refused.hash))?.status).toBe(0)

    // The relayed copy comes back through the listener: recorded as RELAYER, not a second use.
    const view = await eventually(
      async () => {
        const rows = await projection(world, nullifier)
        return rows.uses.some((use) => use.source === 'RELAYER') ? rows : undefined
      },
      30_000,
      'relayed use recorded',
    )
    expect(view.status).toMatchObject({ status: 'USED', first_chain: a.chain })
    expect(view.uses.map((use) => [use.chain, use.source])).toEqual([
      [a.chain, 'PROOF'],
      [b.chain, 'RELAYER'],
    ])
    // Only the first use is propagated, to the one other chain; nothing goes back to A.
    expect(view.propagations).toHaveLength(1)
    expect(view.propagations[0]).toMatchObject({
      target_chain: b.chain,
      outcome: 'PROPAGATED',
      published: true,
    })
    expect(view.alerts).toEqual([])

    // The latency histogram has the pair.
    const metrics = await consumer.metrics()
    expect(metrics).toMatch(
      new RegExp(
        `veridis_nullifier_propagation_latency_seconds_count\\{[^}]*source_chain="${a.chain}",target_chain="${b.chain}"[^}]*\\} 1`,
      ),
    )
  }, 120_000)

  test('behavior: a nullifier already present on the target is not written again (ALREADY_PRESENT)', async () => {
    const { a, b, scope } = world
    const nullifier = 1_000_002n
    // Another relayer (a spare dev account the admin makes RELAYER on this file's chain B)
    // copied it to B before the consumer sees the use on A.
    const admin = b.contract('NullifierRegistry', DEV_ACCOUNT.deployer)
    const otherRelayer = DEV_ACCOUNT.spare[0]
    const role = await admin.getFunction('RELAYER')()
    await (await admin.getFunction('grantRole')(role, b.signer(otherRelayer).getAddress())).wait()
    const relayerOnB = b.contract('NullifierRegistry', otherRelayer)
    await (await relayerOnB.getFunction('recordRelayed')(scope, nullifier, 7n, 'eip155:1')).wait()
    const nonceBefore = await b.provider.getTransactionCount(RELAYER)
    await (await world.protocolRegistry(a).getFunction('recordUse')(scope, nullifier, 7n)).wait()

    const outcome = await eventually(
      async () => world.outcomes.records.find((record) => record.value.nullifier === nullifier.toString()),
      60_000,
      'propagation outcome',
    )
    expect(outcome.value).toMatchObject({ outcome: 'ALREADY_PRESENT', txHash: null, targetChain: b.chain })
    expect(await b.provider.getTransactionCount(RELAYER)).toBe(nonceBefore)
    expect(await relayedLogs(b, scope, nullifier)).toHaveLength(1)
  }, 120_000)
})
