import { describe, expect, test } from 'vitest'
import { chainEventId } from '../common/event-id.ts'
import { normaliseSolanaBlock } from './normalise/events.ts'
import { decodeMemo, encodeMemo, MEMO_PROGRAM_ID, nullifierSeed, SYSTEM_PROGRAM_ID } from './protocol.ts'
import type { FullBlock, ParsedTransaction } from './rpc/schemas.ts'

/**
 * Solana transactions (jsonParsed, as getBlock answers) → chain events: which transactions
 * count (signed by the authority, succeeded, the marker account created with the nullifier's
 * own seed) and the envelope each event gets.
 */
const CHAIN = 'solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z'
const AUTHORITY = 'AuthZ1kVWGh8h3Xm8XbNw7d3n7XcE7u2P4ZQyJ5mGfQa'
const ATTESTER = 'AttsT5rWQ4o4Hk3FhV9mQzB3T9oXhR1kq7mYbP2sLwVc'
const OTHER = 'Fake1111111111111111111111111111111111111111'
const BLOCKHASH = '7pjv4GkoWRQbZpJxR3qkXwQDzS1gZpVNWoKQf6X2G8uV'
const context = {
  chain: CHAIN,
  authorities: { attestation: ATTESTER, nullifier: AUTHORITY },
  observedAt: 1,
}

const memoInstruction = (text: string) => ({ programId: MEMO_PROGRAM_ID, program: 'spl-memo', parsed: text })
const markerInstruction = (seed: string, base = AUTHORITY, owner = MEMO_PROGRAM_ID) => ({
  programId: SYSTEM_PROGRAM_ID,
  program: 'system',
  parsed: {
    type: 'createAccountWithSeed',
    info: { base, seed, newAccount: OTHER, owner, source: base, lamports: 890880, space: 0 },
  },
})

function tx(
  signature: string,
  signers: string[],
  instructions: ParsedTransaction['transaction']['message']['instructions'],
  err: unknown = null,
): ParsedTransaction {
  return {
    meta: { err },
    transaction: {
      signatures: [signature],
      message: { accountKeys: signers.map((pubkey) => ({ pubkey, signer: true })), instructions },
    },
  }
}

const use = { k: 'NullifierUsed' as const, scope: '5', nullifier: '77', root: '9' }
const SIG = (n: number) => `${n}`.padStart(3, '1').replace(/0/g, 'o') + '5VERiDiSsig'.repeat(6)

function block(transactions: ParsedTransaction[]): FullBlock {
  return { blockhash: BLOCKHASH, previousBlockhash: BLOCKHASH, parentSlot: 41, blockHeight: 40, transactions }
}

describe('Solana normaliser', () => {
  test('behavior: memo format round-trips; a foreign or malformed memo is not ours', () => {
    expect(decodeMemo(encodeMemo(use))).toEqual(use)
    expect(decodeMemo('hello')).toBeUndefined()
    expect(
      decodeMemo('veridis:1:{"k":"NullifierUsed","scope":"01","nullifier":"2","root":null}'),
    ).toBeUndefined()
    expect(nullifierSeed('5', '77')).toHaveLength(32)
    expect(nullifierSeed('05', '77')).toBe(nullifierSeed('5', '77'))
    expect(nullifierSeed('5', '78')).not.toBe(nullifierSeed('5', '77'))
  })

  test('behavior: a use with its marker account, signed by the authority, is a PROOF nullifier event with the block envelope', () => {
    const signature = SIG(1)
    const events = normaliseSolanaBlock(
      context,
      42,
      block([
        tx(SIG(9), [OTHER], []),
        tx(
          signature,
          [AUTHORITY],
          [markerInstruction(nullifierSeed('5', '77')), memoInstruction(encodeMemo(use))],
        ),
      ]),
      new Set([signature]),
      'PENDING',
    )
    expect(events).toHaveLength(1)
    expect(events[0]).toEqual({
      topic: 'nullifier',
      value: {
        envelope: {
          eventId: chainEventId({ chain: CHAIN, blockHash: BLOCKHASH, txHash: signature, logIndex: 257 }),
          chain: CHAIN,
          blockNumber: 42,
          blockHash: BLOCKHASH,
          txHash: signature,
          logIndex: 257,
          emitter: AUTHORITY,
          finality: 'PENDING',
          observedAt: 1,
        },
        registry: AUTHORITY,
        scope: '5',
        nullifier: '77',
        merkleTreeRoot: '9',
        source: 'PROOF',
        originChain: null,
        proof: null,
        publicSignals: [],
        message: null,
      },
    })
  })

  test('behavior: relayed uses and attestations; forged, failed and unmarked ones are ignored', () => {
    const relayed = {
      k: 'NullifierRelayed' as const,
      scope: '5',
      nullifier: '78',
      root: null,
      origin: 'eip155:31337',
    }
    const issued = { k: 'AttestationIssued' as const, id: '11', root: '123', schema: null }
    const txs = [
      tx(
        SIG(1),
        [AUTHORITY],
        [markerInstruction(nullifierSeed('5', '78')), memoInstruction(encodeMemo(relayed))],
      ),
      tx(SIG(2), [ATTESTER], [memoInstruction(encodeMemo(issued))]),
      // A memo naming a use without creating its marker account.
      tx(SIG(3), [AUTHORITY], [memoInstruction(encodeMemo(use))]),
      // The marker account of another nullifier.
      tx(SIG(4), [AUTHORITY], [markerInstruction(nullifierSeed('5', '1')), memoInstruction(encodeMemo(use))]),
      // Someone else's key as base, and an attestation memo the attester did not sign.
      tx(
        SIG(5),
        [OTHER],
        [markerInstruction(nullifierSeed('5', '77'), OTHER), memoInstruction(encodeMemo(use))],
      ),
      tx(SIG(6), [OTHER], [memoInstruction(encodeMemo(issued))]),
      // A failed transaction changed nothing.
      tx(SIG(7), [ATTESTER], [memoInstruction(encodeMemo(issued))], { InstructionError: [0, 'Custom'] }),
    ]
    const events = normaliseSolanaBlock(
      context,
      42,
      block(txs),
      new Set(txs.map((t) => t.transaction.signatures[0]!)),
      'FINALIZED',
    )
    expect(
      events.map((event) => [event.topic, event.value.envelope.txHash, event.value.envelope.logIndex]),
    ).toEqual([
      ['nullifier', SIG(1), 1],
      ['attestation', SIG(2), 256],
    ])
    expect(events[0]!.value).toMatchObject({
      source: 'RELAYER',
      originChain: 'eip155:31337',
      merkleTreeRoot: null,
    })
    expect(events[1]!.value).toMatchObject({
      registry: ATTESTER,
      change: {
        'io.veridis.chain.AttestationIssued': { attestationId: '11', issuer: ATTESTER, root: '123' },
      },
    })
  })
})
