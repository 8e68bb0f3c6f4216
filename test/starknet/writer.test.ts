import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createStarknetWriter } from '../../consumers/nullifiers/writers/starknet.ts'
import { AlreadyPresentError, type NullifierWriter } from '../../consumers/nullifiers/writers/writer.ts'
import { resolveStarknetChain } from '../../producers/chains/starknet/config.ts'
import { eventually } from '../support/harness.ts'
import { devnetEntry, STARKNET_DEV_ACCOUNT, startTestDevnet, type TestDevnet } from './support.ts'

/**
 * The StarkNet propagation writer against a real devnet: the relayer's INVOKE v3 is signed
 * and its hash known before it is sent, broadcast from the recorded bytes, followed to its
 * receipt; the registry then holds the nullifier and refuses a second registration, which the
 * writer reports as already present before signing anything.
 */
let devnet: TestDevnet
let writer: NullifierWriter

beforeAll(async () => {
  devnet = await startTestDevnet()
  const resolved = resolveStarknetChain(devnetEntry(devnet))
  if (!('config' in resolved)) throw new Error(resolved.problem)
  const relayer = devnet.accounts[STARKNET_DEV_ACCOUNT.relayer]!
  writer = createStarknetWriter({
    chain: devnet.chain,
    chainId: resolved.config.chainId,
    rpcUrls: [devnet.url],
    registry: devnet.deployment.contracts.NullifierRegistry,
    account: relayer.address,
    privateKey: relayer.privateKey,
  })
}, 240_000)

afterAll(async () => {
  writer?.close()
  await devnet?.stop()
})

// A BN254 field element above 2^251, as nullifiers often are.
const NULLIFIER = '21888242871839275222246405745257275088548364400416903003010253917330944875001'
const use = { scope: '77', nullifier: NULLIFIER, merkleTreeRoot: '5', originChain: 'eip155:31337' }

describe('StarkNet nullifier writer', () => {
  test('behavior: prepared, recorded bytes broadcast, confirmed; the registry then holds the nullifier and a second write is refused before signing', async () => {
    expect(await writer.isUsed(use.scope, use.nullifier)).toBe(false)
    const nonce = await writer.nextNonce()
    const write = await writer.prepare(use, nonce)
    expect(write.txHash).toMatch(/^0x[0-9a-f]+$/)
    expect(write.nonce).toBe(nonce.toString())
    // Nothing is sent by prepare: the node does not know the transaction yet.
    expect(await writer.status(write)).toEqual({ state: 'unknown' })
    await writer.broadcast(write)
    // Broadcasting the same bytes again is harmless (a crash between send and record).
    await writer.broadcast(write)
    const status = await eventually(
      async () => {
        const current = await writer.status(write)
        return current.state === 'confirmed' ? current : undefined
      },
      30_000,
      'confirmed write',
    )
    expect(status).toMatchObject({ state: 'confirmed' })
    const receipt = await devnet.provider.getTransactionReceipt(write.txHash)
    expect((receipt as unknown as { block_number: number }).block_number).toBe(
      (status as { blockNumber: number }).blockNumber,
    )
    expect(await writer.isUsed(use.scope, use.nullifier)).toBe(true)
    expect(await writer.nextNonce()).toBe(nonce + 1n)
    await expect(writer.prepare(use, await writer.nextNonce())).rejects.toBeInstanceOf(AlreadyPresentError)
  }, 120_000)

  test('behavior: a write whose nonce went to another transaction is dropped, never pending forever', async () => {
    const nonce = await writer.nextNonce()
    const stale = await writer.prepare({ ...use, nullifier: '1001' }, nonce)
    const winner = await writer.prepare({ ...use, nullifier: '1002' }, nonce)
    await writer.broadcast(winner)
    await eventually(
      async () => ((await writer.status(winner)).state === 'confirmed' ? true : undefined),
      30_000,
    )
    expect(await writer.status(stale)).toEqual({ state: 'dropped' })
  }, 120_000)
})
