import { randomInt } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { registryAccount, useKey } from '../../producers/chains/polkadot/normalise/remark.ts'
import { cleanListenerRows, collectChainEvents } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  chopsticksEntry,
  startPolkadotListener,
  startTestChopsticks,
  type TestChopsticks,
  writePolkadotConfig,
} from './support.ts'

/**
 * `veridis listen polkadot` against a real chopsticks chain and the real Kafka: records
 * arrive Avro-decoded PENDING, then FINALIZED two blocks later; a second use of a nullifier
 * is refused on-chain and publishes nothing; a fork made with dev_setHead + dev_newBlock
 * from an earlier head RETRACTs exactly the events of the orphaned block.
 */
let testBus: TestBus
let node: TestChopsticks
let listener: ListenerProcess | undefined
let seen: Awaited<ReturnType<typeof collectChainEvents>>
const scope = String(randomInt(1, 2 ** 47))

beforeAll(async () => {
  testBus = await openTestBus()
  node = await startTestChopsticks()
  seen = await collectChainEvents(testBus)
  listener = await startPolkadotListener({
    namespace: testBus.namespace,
    configFile: writePolkadotConfig([chopsticksEntry(node)]),
    chains: [node.chain],
  })
  await untilReady(listener!, 'listener')
}, 300_000)

afterAll(async () => {
  await listener?.kill('SIGKILL')
  await seen?.stop()
  await node?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, node ? [node.chain] : [])
    await testBus.close()
  }
})

const ofTx = (txHash: string) => seen.of(node.chain).filter((event) => event.value.envelope.txHash === txHash)

describe('Polkadot listener (chopsticks)', () => {
  test('behavior: a use and an attestation arrive Avro-decoded PENDING, then FINALIZED after 2 confirmations', async () => {
    const use = await node.record({ t: 'NullifierUsed', scope, nullifier: '7', root: '99' })
    const issued = await node.record({ t: 'AttestationIssued', id: '5', root: '42', schemaId: null })
    expect(use.ok && issued.ok).toBe(true)
    await eventually(
      async () => (ofTx(use.txHash).length > 0 && ofTx(issued.txHash).length > 0 ? true : undefined),
      60_000,
      'PENDING records',
    )
    const [pendingUse] = ofTx(use.txHash)
    expect(pendingUse!.topic).toBe('nullifier')
    expect(pendingUse!.key).toBe(`${scope}:7`)
    expect(pendingUse!.headerEventId).toBe(pendingUse!.value.envelope.eventId)
    const registry = registryAccount([node.writers.relayer, node.writers.attester])
    expect(pendingUse!.value).toMatchObject({
      envelope: {
        chain: node.chain,
        blockNumber: use.blockNumber,
        blockHash: use.blockHash,
        txHash: use.txHash,
        emitter: registry,
        finality: 'PENDING',
      },
      registry,
      scope,
      nullifier: '7',
      merkleTreeRoot: '99',
      source: 'PROOF',
      originChain: null,
    })
    const [pendingIssued] = ofTx(issued.txHash)
    expect(pendingIssued!.topic).toBe('attestation')
    expect(pendingIssued!.value).toMatchObject({
      envelope: { finality: 'PENDING', blockNumber: issued.blockNumber },
      change: { 'io.veridis.chain.AttestationIssued': { attestationId: '5', root: '42', schemaId: null } },
    })
    // Nothing final yet: the head is the records' block.
    expect(seen.of(node.chain).some((event) => event.value.envelope.finality === 'FINALIZED')).toBe(false)
    await node.newBlocks(2)
    await eventually(
      async () =>
        [use, issued].every((included) =>
          ofTx(included.txHash).some((e) => e.value.envelope.finality === 'FINALIZED'),
        )
          ? true
          : undefined,
      60_000,
      'FINALIZED records',
    )
    for (const included of [use, issued]) {
      const events = ofTx(included.txHash)
      expect(new Set(events.map((event) => event.value.envelope.eventId)).size).toBe(1)
      expect(events.map((event) => event.value.envelope.finality)).toEqual(['PENDING', 'FINALIZED'])
    }
  }, 180_000)

  test('behavior: a second use of the nullifier is refused on-chain (multisig NoTimepoint) and publishes nothing', async () => {
    const again = await node.record({ t: 'NullifierUsed', scope, nullifier: '7', root: '1' }, 'relayer')
    expect(again.ok).toBe(false)
    const entry = (await node.api.query.multisig!.multisigs!(
      registryAccount([node.writers.relayer, node.writers.attester]),
      useKey(scope, '7'),
    )) as unknown as { isSome: boolean }
    expect(entry.isSome).toBe(true)
    await node.newBlocks(1)
    const marker = await node.record({ t: 'NullifierUsed', scope, nullifier: '8', root: null })
    await eventually(async () => (ofTx(marker.txHash).length > 0 ? true : undefined), 60_000, 'the next use')
    expect(ofTx(again.txHash)).toEqual([])
  }, 120_000)

  test('behavior: a dev_newBlock fork from an earlier head retracts exactly the orphaned block’s events', async () => {
    const kept = await node.record({ t: 'NullifierUsed', scope, nullifier: '100', root: null })
    const orphaned = await node.record({ t: 'NullifierUsed', scope, nullifier: '101', root: null })
    expect(orphaned.blockNumber).toBe(kept.blockNumber + 1)
    await eventually(
      async () => (ofTx(orphaned.txHash).length > 0 ? true : undefined),
      60_000,
      'both PENDING',
    )
    const before = seen.of(node.chain).length
    // The fork: back to the block that holds `kept`, then two new blocks without `orphaned`.
    await node.setHead(kept.blockNumber)
    await node.newBlocks(2)
    expect(await node.head()).toBe(kept.blockNumber + 2)
    await eventually(
      async () =>
        ofTx(orphaned.txHash).some((e) => e.value.envelope.finality === 'RETRACTED') ? true : undefined,
      60_000,
      'RETRACTED',
    )
    await node.newBlocks(2)
    await eventually(
      async () =>
        ofTx(kept.txHash).some((e) => e.value.envelope.finality === 'FINALIZED') ? true : undefined,
      60_000,
      'the kept use FINALIZED',
    )
    const retracted = seen
      .of(node.chain)
      .slice(before)
      .filter((event) => event.value.envelope.finality === 'RETRACTED')
    expect(retracted.map((event) => event.value.envelope.txHash)).toEqual([orphaned.txHash])
    expect(retracted[0]!.value.envelope.eventId).toBe(ofTx(orphaned.txHash)[0]!.value.envelope.eventId)
    expect(ofTx(kept.txHash).map((event) => event.value.envelope.finality)).toEqual(['PENDING', 'FINALIZED'])
    // The orphaned use's key went with its block: the nullifier is free again on this chain.
    const entry = (await node.api.query.multisig!.multisigs!(
      registryAccount([node.writers.relayer, node.writers.attester]),
      useKey(scope, '101'),
    )) as unknown as { isSome: boolean }
    expect(entry.isSome).toBe(false)
    expect(await listener!.metrics()).toMatch(/veridis_chain_reorgs_total\{[^}]*\} 1/)
  }, 180_000)
})
