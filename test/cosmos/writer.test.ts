import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createCosmosWriter } from '../../consumers/nullifiers/writers/cosmos.ts'
import { AlreadyPresentError, type NullifierWriter } from '../../consumers/nullifiers/writers/writer.ts'
import { COSMOS_DEV_MNEMONIC, WASMD_BECH32_PREFIX } from '../../contracts/cosmos/accounts.ts'
import { eventually } from '../support/harness.ts'
import { COSMOS_DEV_ACCOUNT, startTestWasmd, type TestWasmd } from './support.ts'

/**
 * The Cosmos nullifier writer against a real wasmd: state checked before signing, the hash
 * known before sending, the same bytes broadcast twice land once, and a write whose sequence
 * another transaction took is reported dropped.
 */
let node: TestWasmd
let writer: NullifierWriter

beforeAll(async () => {
  node = await startTestWasmd()
  writer = createCosmosWriter({
    chain: node.chain,
    chainId: node.chainId,
    rpcUrls: [node.url],
    registry: node.deployment.registry,
    bech32Prefix: WASMD_BECH32_PREFIX,
    address: node.keys[COSMOS_DEV_ACCOUNT.relayer]!.address,
    mnemonic: COSMOS_DEV_MNEMONIC,
    hdIndex: COSMOS_DEV_ACCOUNT.relayer,
    gasPrice: '0stake',
    gasLimit: 400_000,
  })
}, 240_000)

afterAll(async () => {
  writer?.close()
  await node?.stop()
})

const use = (nullifier: string) => ({
  scope: '11',
  nullifier,
  merkleTreeRoot: '5',
  originChain: 'eip155:31337',
})

describe('Cosmos nullifier writer', () => {
  test('behavior: prepare signs without sending; broadcasting the same bytes twice lands once; confirmed', async () => {
    expect(await writer.isUsed('11', '1')).toBe(false)
    const nonce = await writer.nextNonce()
    const write = await writer.prepare(use('1'), nonce)
    expect(write.txHash).toMatch(/^[0-9A-F]{64}$/)
    expect(write.nonce).toBe(nonce.toString())
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    expect(await writer.status(write)).toEqual({ state: 'unknown' })
    expect(await writer.isUsed('11', '1')).toBe(false)
    await writer.broadcast(write)
    await writer.broadcast(write)
    const status = await eventually(
      async () => {
        const found = await writer.status(write)
        return found.state === 'confirmed' ? found : undefined
      },
      30_000,
      'confirmed',
    )
    expect(status).toMatchObject({ state: 'confirmed' })
    expect(await writer.isUsed('11', '1')).toBe(true)
    // The same bytes again after inclusion: the sequence is spent, nothing lands twice.
    await writer.broadcast(write)
    expect(await writer.nextNonce()).toBe(nonce + 1n)
  }, 90_000)

  test('behavior: a nullifier already on the chain is refused before signing (ALREADY_PRESENT)', async () => {
    await node.recordUse(11n, 2n)
    await expect(writer.prepare(use('2'), await writer.nextNonce())).rejects.toBeInstanceOf(
      AlreadyPresentError,
    )
  }, 60_000)

  test('behavior: a write whose sequence went to another transaction is dropped', async () => {
    const nonce = await writer.nextNonce()
    const lost = await writer.prepare(use('3'), nonce)
    const taken = await writer.prepare(use('4'), nonce)
    await writer.broadcast(taken)
    await eventually(
      async () => ((await writer.status(taken)).state === 'confirmed' ? true : undefined),
      30_000,
      'the other write confirmed',
    )
    expect(await writer.status(lost)).toEqual({ state: 'dropped' })
  }, 90_000)
})
