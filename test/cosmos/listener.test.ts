import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { chainEventId } from '../../producers/chains/common/event-id.ts'
import type { TxResult } from '../../producers/chains/cosmos/rpc/schemas.ts'
import { blockchainSchema } from '../../producers/chains/cosmos/rpc/schemas.ts'
import { cleanListenerRows, collectChainEvents, type SeenEvent } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  COSMOS_DEV_ACCOUNT,
  startCosmosListener,
  startTestWasmd,
  type TestWasmd,
  wasmdEntry,
  writeCosmosConfig,
} from './support.ts'

/**
 * The CosmWasm registry's events on a real wasmd reach Kafka through a real `veridis listen
 * cosmos` process: Avro-decoded, with the envelope the committed transaction gives, FINALIZED at
 * once (CometBFT commits are final: no PENDING, nothing to retract), each fact once; a second use
 * of a nullifier is refused on-chain.
 */
let testBus: TestBus
let node: TestWasmd
let listener: ListenerProcess
let seen: Awaited<ReturnType<typeof collectChainEvents>>

beforeAll(async () => {
  testBus = await openTestBus()
  node = await startTestWasmd()
  const configFile = writeCosmosConfig([wasmdEntry(node)])
  listener = await startCosmosListener({ namespace: testBus.namespace, configFile, chains: [node.chain] })
  seen = await collectChainEvents(testBus)
  await untilReady(listener, 'listener')
}, 300_000)

afterAll(async () => {
  await listener?.kill()
  await seen?.stop()
  await node?.stop()
  if (testBus) {
    await cleanListenerRows(testBus, node ? [node.chain] : [])
    await testBus.close()
  }
})

/** The envelope the listener must publish for the registry's event of this type in this transaction. */
async function expectedEnvelope(tx: TxResult, type: string) {
  const index = tx.tx_result.events.findIndex((event) => event.type === type)
  expect(index).toBeGreaterThanOrEqual(0)
  const answer = blockchainSchema.parse(
    (
      (await (
        await fetch(`${node.url}/blockchain?minHeight=${tx.height}&maxHeight=${tx.height}`)
      ).json()) as { result: unknown }
    ).result,
  )
  const blockHash = answer.block_metas[0]!.block_id.hash
  return {
    eventId: chainEventId({ chain: node.chain, blockHash, txHash: tx.hash, logIndex: index }),
    chain: node.chain,
    blockNumber: tx.height,
    blockHash,
    txHash: tx.hash,
    logIndex: index,
    emitter: node.deployment.registry,
  }
}

const ofTx = (tx: TxResult) => (event: SeenEvent) => event.value.envelope.txHash === tx.hash

describe('Cosmos listener on a real wasmd', () => {
  test('behavior: attestation and nullifier events arrive Avro-decoded on their topics, FINALIZED once, with the committed envelope', async () => {
    const issuer = node.keys[COSMOS_DEV_ACCOUNT.issuer]!.address
    const schemaId = `0x${'ab'.repeat(32)}`
    const issued = await node.execute(
      { issue: { attestation_id: '77', root: '123456789', schema_id: schemaId } },
      COSMOS_DEV_ACCOUNT.issuer,
    )
    const revoked = await node.execute(
      { revoke: { attestation_id: '77', reason: 'key compromised' } },
      COSMOS_DEV_ACCOUNT.issuer,
    )
    const rooted = await node.execute({ update_root: { root: '987654321' } }, COSMOS_DEV_ACCOUNT.issuer)
    const scope = 2n ** 250n + 5n
    const used = await node.recordUse(scope, 42n, 9n)
    const relayed = await node.execute(
      {
        record_relayed: {
          scope: scope.toString(),
          nullifier: '43',
          merkle_tree_root: '0',
          origin_chain: 'eip155:31337',
        },
      },
      COSMOS_DEV_ACCOUNT.relayer,
    )
    const txs = [issued, revoked, rooted, used, relayed]
    await eventually(
      async () => (txs.every((tx) => seen.of(node.chain).some(ofTx(tx))) ? true : undefined),
      60_000,
      'every event',
    )
    // A moment more: anything published twice, or again with another finality, would show.
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    const events = seen.of(node.chain)
    expect(events).toHaveLength(5)
    for (const event of events) {
      expect(event.value.envelope.finality).toBe('FINALIZED')
      expect(event.headerEventId).toBe(event.value.envelope.eventId)
    }

    const one = (tx: TxResult) => events.filter(ofTx(tx))[0]!
    expect(one(issued).topic).toBe('attestation')
    expect(one(issued).value).toMatchObject({
      envelope: await expectedEnvelope(issued, 'wasm-veridis_attestation_issued'),
      registry: node.deployment.registry,
      change: {
        'io.veridis.chain.AttestationIssued': { attestationId: '77', issuer, root: '123456789', schemaId },
      },
    })
    expect(one(revoked).value).toMatchObject({
      envelope: await expectedEnvelope(revoked, 'wasm-veridis_attestation_revoked'),
      change: {
        'io.veridis.chain.AttestationRevoked': { attestationId: '77', issuer, reason: 'key compromised' },
      },
    })
    expect(one(rooted).value).toMatchObject({
      envelope: await expectedEnvelope(rooted, 'wasm-veridis_attestation_root_updated'),
      change: {
        'io.veridis.chain.AttestationRootUpdated': { issuer, previousRoot: '123456789', root: '987654321' },
      },
    })
    expect(one(used).topic).toBe('nullifier')
    expect(one(used).key).toBe(`${scope}:42`)
    expect(one(used).value).toMatchObject({
      envelope: await expectedEnvelope(used, 'wasm-veridis_nullifier_used'),
      registry: node.deployment.registry,
      scope: scope.toString(),
      nullifier: '42',
      merkleTreeRoot: '9',
      source: 'PROOF',
      originChain: null,
    })
    expect(one(relayed).value).toMatchObject({
      envelope: await expectedEnvelope(relayed, 'wasm-veridis_nullifier_relayed'),
      scope: scope.toString(),
      nullifier: '43',
      merkleTreeRoot: null,
      source: 'RELAYER',
      originChain: 'eip155:31337',
    })
  }, 120_000)

  test('behavior: a second use of a nullifier is refused on-chain by the registry, and publishes nothing', async () => {
    await node.recordUse(5n, 500n)
    expect(await node.isUsed(5n, 500n)).toBe(true)
    await expect(node.recordUse(5n, 500n)).rejects.toThrow(/nullifier already used/)
    // The relayer cannot record it either.
    await expect(
      node.execute(
        { record_relayed: { scope: '5', nullifier: '500', merkle_tree_root: '0', origin_chain: 'eip155:1' } },
        COSMOS_DEV_ACCOUNT.relayer,
      ),
    ).rejects.toThrow(/nullifier already used/)
    // Only the role holders write: the issuer is not PROTOCOL.
    await expect(
      node.execute(
        { record_use: { scope: '5', nullifier: '501', merkle_tree_root: '0' } },
        COSMOS_DEV_ACCOUNT.issuer,
      ),
    ).rejects.toThrow(/lacks the protocol role/)
    const uses = () =>
      seen.of(node.chain).filter((event) => event.topic === 'nullifier' && event.value.nullifier === '500')
    await eventually(async () => (uses().length > 0 ? true : undefined), 30_000, 'the first use')
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(uses()).toHaveLength(1)
  }, 120_000)
})
