import { randomInt } from 'node:crypto'
import { CallData, cairo } from 'starknet'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { knownRoots, usedNullifiers } from '../../consumers/verifier/facts.ts'
import { cleanListenerRows } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'
import { type ConsumerProcess, startConsumerProcess } from '../support/consumer-process.ts'
import { eventually, openTestBus, type TestBus, untilReady } from '../support/harness.ts'
import {
  devnetEntry,
  startStarknetListener,
  startTestDevnet,
  type TestDevnet,
  writeStarknetConfig,
} from './support.ts'

/**
 * Roots and nullifiers published by the Cairo registries are facts the verifier checks
 * proofs against (`expectedChain` = the StarkNet chain), as EVM ones are: a devnet of this
 * file's own, the real `veridis listen starknet` and the real `veridis consume verifier`.
 * Roots larger than a felt252 travel as u256 and arrive whole.
 */
let testBus: TestBus
let devnet: TestDevnet
let listener: ListenerProcess
let verifier: ConsumerProcess

beforeAll(async () => {
  testBus = await openTestBus()
  devnet = await startTestDevnet()
  listener = await startStarknetListener({
    namespace: testBus.namespace,
    configFile: writeStarknetConfig([devnetEntry(devnet)]),
    chains: [devnet.chain],
  })
  verifier = await startConsumerProcess({ name: 'verifier', namespace: testBus.namespace })
  await untilReady(listener, 'listener')
}, 300_000)

afterAll(async () => {
  await verifier?.kill('SIGKILL')
  await listener?.kill('SIGKILL')
  await devnet?.stop()
  if (testBus) {
    await testBus.pool.query('DELETE FROM zk_known_roots WHERE chain = $1', [devnet?.chain])
    await testBus.pool.query('DELETE FROM zk_used_nullifiers WHERE chain = $1', [devnet?.chain])
    await cleanListenerRows(testBus, devnet ? [devnet.chain] : [])
    await testBus.close()
  }
})

const updateRoot = (root: bigint) =>
  devnet.invoke({
    contractAddress: devnet.deployment.contracts.AttestationRegistry,
    entrypoint: 'update_root',
    calldata: CallData.compile({ root: cairo.uint256(root) }),
  })

describe('StarkNet facts for proof checks', () => {
  test('behavior: a root set on the Cairo registry becomes a known root of the StarkNet chain; an aborted one is withdrawn', async () => {
    // Above the felt252 prime (≈ 2^251), below the BN254 field's modulus: needs the u256.
    const kept = 2n ** 252n + BigInt(randomInt(1, 2 ** 47))
    const aborted = kept + 1n
    await updateRoot(kept)
    const abortedReceipt = await updateRoot(aborted)
    const pairs = [kept, aborted].map((root) => ({ chain: devnet.chain, root: root.toString() }))
    await eventually(
      async () => ((await knownRoots(testBus.pool, pairs)).size === 2 ? true : undefined),
      90_000,
      'both roots known to the verifier',
    )
    await devnet.rpc('devnet_abortBlocks', {
      starting_block_id: { block_number: abortedReceipt.block_number },
    })
    // The listener learns of the abort when the chain grows again in its place (an empty
    // block has another hash than the aborted one; test/starknet/listener.test.ts).
    await devnet.rpc('devnet_createBlock')
    await devnet.rpc('devnet_createBlock')
    await eventually(
      async () => ((await knownRoots(testBus.pool, pairs)).size === 1 ? true : undefined),
      90_000,
      'the aborted root withdrawn',
    )
    expect(await knownRoots(testBus.pool, pairs)).toEqual(new Set([`${devnet.chain}|${kept}`]))
    // A root of the same value on another chain is not this chain's.
    expect(await knownRoots(testBus.pool, [{ chain: 'eip155:31337', root: kept.toString() }])).toEqual(
      new Set(),
    )
  }, 180_000)

  test('behavior: a nullifier used on the Cairo registry counts as used on the StarkNet chain', async () => {
    const scope = BigInt(randomInt(1, 2 ** 47))
    const nullifier = 2n ** 253n + BigInt(randomInt(1, 2 ** 47))
    await devnet.invoke({
      contractAddress: devnet.deployment.contracts.NullifierRegistry,
      entrypoint: 'record_use',
      calldata: CallData.compile({
        scope: cairo.uint256(scope),
        nullifier: cairo.uint256(nullifier),
        root: cairo.uint256(9n),
      }),
    })
    const pair = [{ chain: devnet.chain, nullifier: nullifier.toString() }]
    const used = await eventually(
      async () => {
        const found = await usedNullifiers(testBus.pool, pair)
        return found.size === 1 ? found : undefined
      },
      90_000,
      'the nullifier recorded as used',
    )
    expect(used).toEqual(new Set([`${devnet.chain}|${nullifier}`]))
  }, 120_000)
})
