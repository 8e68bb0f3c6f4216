/**
 * Solana's part of `bin/veridis bench chains`: N nullifier uses on a solana-test-validator of
 * the bench's own, then, in the same run over the same slot range:
 *   listener  a fresh in-process listener engine catching the finalized range up: RPC →
 *             normalise → Avro → Kafka (acks=all) → cursor committed;
 *   raw       the same range read through web3.js: getSignaturesForAddress pages, then
 *             getParsedBlock per slot holding one, nothing decoded into records or published.
 * Propagation latency per direction against an anvil, through the real listeners and the
 * real `veridis consume nullifiers`: a use confirmed on the source → the target's registry
 * answers "used".
 */
import { resolveSolanaChain } from '../../producers/chains/solana/config.ts'
import { solanaFamily } from '../../producers/chains/solana/family.ts'
import { startTestValidator, validatorEntry, validatorPeer } from '../../test/solana/support.ts'
import { eventually, openTestBus } from '../../test/support/harness.ts'
import { median } from '../stats.ts'
import { timeCatchUp } from './catch-up.ts'
import type { FamilyBench } from './family-bench.ts'
import { measurePropagation } from './propagation.ts'

export const benchFamily: FamilyBench = async (options) => {
  const validator = await startTestValidator()
  const testBus = await openTestBus()
  try {
    // The uses, a few hundred transactions in flight at a time.
    const sent: { slot: number }[] = []
    for (let i = 0; i < options.events; i += 50) {
      const batch = Array.from({ length: Math.min(50, options.events - i) }, (_, j) =>
        validator.use(91n, BigInt(i + j + 1)),
      )
      sent.push(...(await Promise.all(batch)))
    }
    const firstSlot = Math.min(...sent.map((use) => use.slot))
    const lastSlot = Math.max(...sent.map((use) => use.slot))
    await eventually(
      async () => ((await validator.connection.getSlot('finalized')) >= lastSlot ? true : undefined),
      120_000,
      'the uses finalized',
    )

    const resolved = resolveSolanaChain(
      validatorEntry(validator, { startBlock: firstSlot, maxBlockRange: lastSlot - firstSlot + 1 }),
    )
    if (!('config' in resolved)) throw new Error(resolved.problem)
    const range = {
      family: solanaFamily,
      config: resolved.config,
      lastBlock: lastSlot,
      events: options.events,
    }
    const timeListener = (label: string) => timeCatchUp(testBus, range, label)

    const raw = async () => {
      const started = performance.now()
      const slots = new Set<number>()
      let before: string | undefined
      for (;;) {
        const page = await validator.connection.getSignaturesForAddress(
          validator.authority.publicKey,
          { limit: 1_000, ...(before ? { before } : {}) },
          'finalized',
        )
        for (const info of page) if (info.slot >= firstSlot && info.slot <= lastSlot) slots.add(info.slot)
        if (page.length < 1_000 || page.at(-1)!.slot < firstSlot) break
        before = page.at(-1)!.signature
      }
      let transactions = 0
      for (const slot of slots) {
        const block = await validator.connection.getParsedBlock(slot, {
          commitment: 'finalized',
          maxSupportedTransactionVersion: 0,
          rewards: false,
          transactionDetails: 'full',
        })
        transactions += block.transactions.length
      }
      const elapsed = performance.now() - started
      if (transactions < options.events) throw new Error(`bench: raw read ${transactions} transactions`)
      return elapsed
    }

    await timeListener('warmup')
    const listenerMs: number[] = []
    const rawMs: number[] = []
    for (let round = 0; round < options.rounds; round++) {
      rawMs.push(await raw())
      listenerMs.push(await timeListener(`round${round}`))
    }
    await testBus.pool.query('DELETE FROM chain_listener_state WHERE chain = $1', [validator.chain])

    // The peer's listener from the finalized slot: the range above is the throughput half's.
    const propagation = await measurePropagation(
      validatorPeer(validator, { startBlock: await validator.connection.getSlot('finalized') }),
      options.uses,
    )
    return {
      family: 'solana',
      chain: validator.chain,
      events: options.events,
      listenerEventsPerSecond: options.events / (median(listenerMs) / 1000),
      rawEventsPerSecond: options.events / (median(rawMs) / 1000),
      propagation,
    }
  } finally {
    await testBus.close()
    await validator.stop()
  }
}
