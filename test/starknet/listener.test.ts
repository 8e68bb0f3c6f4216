import { byteArray, CallData, cairo } from 'starknet'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { padAddress } from '../../contracts/starknet/deploy.ts'
import { chainEventId } from '../../producers/chains/common/event-id.ts'
import { contentIdentity } from '../../producers/chains/starknet/source.ts'
import { cleanListenerRows, collectChainEvents, type SeenEvent } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  devnetEntry,
  type Receipt,
  STARKNET_DEV_ACCOUNT,
  startStarknetListener,
  startTestDevnet,
  type TestDevnet,
  writeStarknetConfig,
} from './support.ts'

/**
 * The Cairo contracts' events on a real starknet-devnet reach Kafka through a real `veridis
 * listen starknet` process: Avro-decoded, with the envelope the receipt gives, PENDING while
 * ACCEPTED_ON_L2 and FINALIZED once devnet_acceptOnL1 accepts their blocks; blocks dropped
 * with devnet_abortBlocks retract exactly their events.
 */
let testBus: TestBus
let devnet: TestDevnet
let listener: ListenerProcess
let seen: Awaited<ReturnType<typeof collectChainEvents>>

beforeAll(async () => {
  testBus = await openTestBus()
  devnet = await startTestDevnet()
  const configFile = writeStarknetConfig([devnetEntry(devnet, { wsUrl: devnet.wsUrl })])
  listener = await startStarknetListener({ namespace: testBus.namespace, configFile, chains: [devnet.chain] })
  seen = await collectChainEvents(testBus)
  await untilReady(listener, 'listener')
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

const registry = (name: 'AttestationRegistry' | 'NullifierRegistry') => devnet.deployment.contracts[name]

/**
 * The envelope the listener must publish for the contract's event in this receipt. The block
 * is named by its identity: the devnet's block hash with the block's commitments (config
 * `block-and-content`, since devnet's hash does not commit to the contents).
 */
async function expectedEnvelope(receipt: Receipt, contract: string) {
  const index = receipt.events.findIndex((event) => BigInt(event.from_address) === BigInt(contract))
  expect(index).toBeGreaterThanOrEqual(0)
  const block = await devnet.rpc<{
    block_hash: string
    transaction_commitment: string
    event_commitment: string
  }>('starknet_getBlockWithTxHashes', { block_id: { block_number: receipt.block_number } })
  expect(BigInt(block.block_hash)).toBe(BigInt(receipt.block_hash))
  const blockHash = contentIdentity(block)
  const txHash = `0x${BigInt(receipt.transaction_hash).toString(16)}`
  return {
    eventId: chainEventId({ chain: devnet.chain, blockHash, txHash, logIndex: index }),
    chain: devnet.chain,
    blockNumber: receipt.block_number,
    blockHash,
    txHash,
    logIndex: index,
    emitter: padAddress(contract),
  }
}

function waitFor(eventId: string, finality: string, timeoutMs = 30_000): Promise<SeenEvent> {
  return eventually(
    async () =>
      seen.events.find(
        (event) => event.value.envelope.eventId === eventId && event.value.envelope.finality === finality,
      ),
    timeoutMs,
    `${finality} event ${eventId}`,
  )
}

const call = (contract: string, entrypoint: string, calldata: Record<string, unknown>) => ({
  contractAddress: contract,
  entrypoint,
  calldata: CallData.compile(calldata as never),
})
// A BN254 field element above 2^251: the registries keep it whole as a u256.
const BIG = 21888242871839275222246405745257275088548364400416903003010253917330944875000n

describe('StarkNet listener: Cairo contract events through the common engine', () => {
  test('behavior: attestation and nullifier events arrive decoded with the receipt envelope, PENDING then FINALIZED on L1 acceptance', async () => {
    const attestations = registry('AttestationRegistry')
    const nullifiers = registry('NullifierRegistry')
    const issued = await devnet.invoke(
      call(attestations, 'issue', { id: cairo.uint256(11n), root: cairo.uint256(BIG), schema: '0x6b7963' }),
    )
    const revoked = await devnet.invoke(
      call(attestations, 'revoke', {
        id: cairo.uint256(11n),
        reason: byteArray.byteArrayFromString('expired'),
      }),
    )
    const used = await devnet.invoke(
      call(nullifiers, 'record_use', {
        scope: cairo.uint256(5n),
        nullifier: cairo.uint256(BIG - 1n),
        root: cairo.uint256(7n),
      }),
    )
    const relayed = await devnet.invoke(
      call(nullifiers, 'record_relayed', {
        scope: cairo.uint256(5n),
        nullifier: cairo.uint256(6n),
        root: cairo.uint256(7n),
        origin: byteArray.byteArrayFromString('eip155:31337'),
      }),
      STARKNET_DEV_ACCOUNT.relayer,
    )
    for (const receipt of [issued, revoked, used, relayed]) expect(receipt.execution_status).toBe('SUCCEEDED')

    const issuedEnvelope = await expectedEnvelope(issued, attestations)
    const pendingIssued = await waitFor(issuedEnvelope.eventId, 'PENDING')
    expect(pendingIssued.topic).toBe('attestation')
    expect(pendingIssued.value.envelope).toMatchObject(issuedEnvelope)
    expect(pendingIssued.headerEventId).toBe(issuedEnvelope.eventId)
    expect(pendingIssued.value.change).toEqual({
      'io.veridis.chain.AttestationIssued': {
        attestationId: '11',
        issuer: padAddress(devnet.deployment.roles.protocol),
        root: BIG.toString(),
        schemaId: `0x${'6b7963'.padStart(64, '0')}`,
      },
    })
    const revokedEvent = await waitFor((await expectedEnvelope(revoked, attestations)).eventId, 'PENDING')
    expect(revokedEvent.value.change).toMatchObject({
      'io.veridis.chain.AttestationRevoked': { attestationId: '11', reason: 'expired' },
    })

    const usedEnvelope = await expectedEnvelope(used, nullifiers)
    const usedEvent = await waitFor(usedEnvelope.eventId, 'PENDING')
    expect(usedEvent.topic).toBe('nullifier')
    // Keyed scope:nullifier, so every use of one nullifier from any chain meets on a partition.
    expect(usedEvent.key).toBe(`5:${BIG - 1n}`)
    expect(usedEvent.value).toMatchObject({
      envelope: usedEnvelope,
      scope: '5',
      nullifier: (BIG - 1n).toString(),
      merkleTreeRoot: '7',
      source: 'PROOF',
      originChain: null,
    })
    const relayedEvent = await waitFor((await expectedEnvelope(relayed, nullifiers)).eventId, 'PENDING')
    expect(relayedEvent.value).toMatchObject({
      source: 'RELAYER',
      originChain: 'eip155:31337',
      nullifier: '6',
    })

    // Nothing is FINALIZED before L1 accepts the blocks.
    expect(seen.of(devnet.chain).filter((event) => event.value.envelope.finality === 'FINALIZED')).toEqual([])
    const accepted = await devnet.rpc<{ accepted: string[] }>('devnet_acceptOnL1', {
      starting_block_id: 'latest',
    })
    expect(accepted.accepted.length).toBeGreaterThan(0)
    for (const [receipt, contract] of [
      [issued, attestations],
      [revoked, attestations],
      [used, nullifiers],
      [relayed, nullifiers],
    ] as const) {
      const envelope = await expectedEnvelope(receipt, contract)
      const final = await waitFor(envelope.eventId, 'FINALIZED')
      expect(final.value.envelope).toMatchObject(envelope)
    }
  }, 180_000)

  test('behavior: devnet_abortBlocks of two blocks retracts exactly their events; later blocks publish afresh', async () => {
    const nullifiers = registry('NullifierRegistry')
    const kept = await devnet.invoke(
      call(nullifiers, 'record_use', {
        scope: cairo.uint256(9n),
        nullifier: cairo.uint256(1n),
        root: cairo.uint256(0n),
      }),
    )
    const first = await devnet.invoke(
      call(nullifiers, 'record_use', {
        scope: cairo.uint256(9n),
        nullifier: cairo.uint256(2n),
        root: cairo.uint256(0n),
      }),
    )
    const second = await devnet.invoke(
      call(nullifiers, 'record_use', {
        scope: cairo.uint256(9n),
        nullifier: cairo.uint256(3n),
        root: cairo.uint256(0n),
      }),
    )
    const keptId = (await expectedEnvelope(kept, nullifiers)).eventId
    const abortedIds = [
      (await expectedEnvelope(first, nullifiers)).eventId,
      (await expectedEnvelope(second, nullifiers)).eventId,
    ]
    for (const id of [keptId, ...abortedIds]) await waitFor(id, 'PENDING')

    await devnet.rpc('devnet_abortBlocks', { starting_block_id: { block_number: first.block_number } })
    // devnet's block hash commits to number, parent and transaction count only (its own
    // choice, so that a dump replays to the same hashes): an empty block in place of the
    // aborted one has another hash, and every block after it another parent. On a real
    // network the hash commits to the contents as well.
    await devnet.rpc('devnet_createBlock')
    const replacement = await devnet.invoke(
      call(nullifiers, 'record_use', {
        scope: cairo.uint256(9n),
        nullifier: cairo.uint256(4n),
        root: cairo.uint256(0n),
      }),
    )
    expect(replacement.block_number).toBe(second.block_number)
    const replacementId = (await expectedEnvelope(replacement, nullifiers)).eventId
    await waitFor(replacementId, 'PENDING')
    for (const id of abortedIds) await waitFor(id, 'RETRACTED')

    const retracted = seen
      .of(devnet.chain)
      .filter((event) => event.value.envelope.finality === 'RETRACTED')
      .map((event) => event.value.envelope.eventId)
    expect(new Set(retracted)).toEqual(new Set(abortedIds))
    expect(await listener.metrics()).toMatch(
      new RegExp(`veridis_chain_reorgs_total\\{[^}]*chain="${devnet.chain}"[^}]*\\} [1-9]`),
    )
  }, 120_000)
})
