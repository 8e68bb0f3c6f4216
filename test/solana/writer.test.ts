import { PublicKey, SystemProgram, Transaction, TransactionInstruction } from '@solana/web3.js'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createSolanaWriter, nullifierAccount } from '../../consumers/nullifiers/writers/solana.ts'
import { AlreadyPresentError, type NullifierWriter } from '../../consumers/nullifiers/writers/writer.ts'
import { MEMO_PROGRAM_ID, nullifierSeed } from '../../producers/chains/solana/protocol.ts'
import { eventually } from '../support/harness.ts'
import { startTestValidator, type TestValidator } from './support.ts'

/**
 * The Solana propagation writer against a real validator: the driver's contract (writer.ts)
 * — sign without sending, broadcast the recorded bytes (again if need be), follow the
 * signature — with the registry's refusal of a second registration, and a write whose
 * blockhash expired unseen reported `dropped`.
 */
let validator: TestValidator
let writer: NullifierWriter

beforeAll(async () => {
  validator = await startTestValidator()
  writer = createSolanaWriter({
    chain: validator.chain,
    rpcUrls: ['http://127.0.0.1:1', validator.url],
    secretKey: validator.authority.secretKey,
    requestTimeoutMs: 5_000,
  })
}, 240_000)

afterAll(async () => {
  writer?.close()
  await validator?.stop()
})

const use = (nullifier: bigint) => ({
  scope: '41',
  nullifier: nullifier.toString(),
  merkleTreeRoot: '3',
  originChain: 'eip155:31337',
})

describe('Solana nullifier writer', () => {
  test('behavior: prepared → unknown until sent; the same bytes twice land once; then the registry holds it and refuses a second', async () => {
    expect(writer.sender).toBe(validator.authority.publicKey.toBase58())
    expect(await writer.isUsed('41', '1')).toBe(false)
    const write = await writer.prepare(use(1n), await writer.nextNonce())
    expect(await writer.status(write)).toEqual({ state: 'unknown' })
    await writer.broadcast(write)
    await writer.broadcast(write)
    const status = await eventually(
      async () => {
        const current = await writer.status(write)
        return current.state === 'confirmed' ? current : undefined
      },
      30_000,
      'confirmed',
    )
    expect(status.state).toBe('confirmed')
    expect(await writer.isUsed('41', '1')).toBe(true)
    expect(await validator.isUsed(41n, 1n)).toBe(true)
    await expect(writer.prepare(use(1n), await writer.nextNonce())).rejects.toBeInstanceOf(
      AlreadyPresentError,
    )
  }, 60_000)

  test('behavior: a registration that lost the race lands reverted', async () => {
    const first = await writer.prepare(use(2n), await writer.nextNonce())
    const second = await writer.prepare({ ...use(2n), originChain: 'eip155:31338' }, await writer.nextNonce())
    expect(second.txHash).not.toBe(first.txHash)
    await writer.broadcast(first)
    await eventually(
      async () => ((await writer.status(first)).state === 'confirmed' ? true : undefined),
      30_000,
      'first',
    )
    await writer.broadcast(second)
    const status = await eventually(
      async () => {
        const current = await writer.status(second)
        return current.state === 'reverted' ? current : undefined
      },
      30_000,
      'second reverted',
    )
    expect(status.state).toBe('reverted')
  }, 90_000)

  test('behavior: a registration that failed for another reason is dropped (signed afresh), not a lost race', async () => {
    // The marker account and a memo the Memo program refuses (not UTF-8): the transaction
    // lands failed, as one did while a restarted validator answered "Unsupported program id".
    const { blockhash, lastValidBlockHeight } = await validator.connection.getLatestBlockhash('confirmed')
    const authority = validator.authority.publicKey
    const seed = nullifierSeed('41', '4')
    const tx = new Transaction({ feePayer: authority, blockhash, lastValidBlockHeight }).add(
      SystemProgram.createAccountWithSeed({
        fromPubkey: authority,
        basePubkey: authority,
        seed,
        newAccountPubkey: await nullifierAccount(authority, '41', '4'),
        lamports: await validator.connection.getMinimumBalanceForRentExemption(0),
        space: 0,
        programId: new PublicKey(MEMO_PROGRAM_ID),
      }),
      new TransactionInstruction({
        programId: new PublicKey(MEMO_PROGRAM_ID),
        keys: [],
        data: Buffer.from([0xff, 0xfe]),
      }),
    )
    tx.sign(validator.authority)
    const signature = await validator.connection.sendRawTransaction(tx.serialize(), { skipPreflight: true })
    const failed = await eventually(
      async () => {
        const { value } = await validator.connection.getSignatureStatuses([signature])
        const found = value[0]
        return found && found.confirmationStatus !== 'processed' ? found : undefined
      },
      30_000,
      'the failed registration confirmed',
    )
    expect(failed.err).toEqual({ InstructionError: [1, 'InvalidInstructionData'] })
    const write = { txHash: signature, nonce: String(lastValidBlockHeight), signed: '0x' }
    expect(await writer.status(write)).toEqual({ state: 'dropped' })
    expect(await writer.isUsed('41', '4')).toBe(false)
  }, 90_000)

  test('behavior: a write never sent is dropped once its blockhash expired (finalized height past lastValidBlockHeight)', async () => {
    const write = await writer.prepare(use(3n), await writer.nextNonce())
    expect(await writer.status(write)).toEqual({ state: 'unknown' })
    // 150 blocks of validity plus the finalized lag: 73 s at 400-ms slots, but slots stretch on
    // a loaded two-core machine (the validator runs at nice 10), so the cap is generous.
    const status = await eventually(
      async () => {
        const current = await writer.status(write)
        return current.state === 'dropped' ? current : undefined
      },
      540_000,
      'dropped',
    )
    expect(status.state).toBe('dropped')
    expect(await writer.isUsed('41', '3')).toBe(false)
  }, 600_000)
})
