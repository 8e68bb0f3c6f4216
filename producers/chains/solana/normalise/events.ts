import type {
  AttestationEvent,
  ChainEventEnvelope,
  Finality,
  NullifierEvent,
} from '../../../../core/bus/types.ts'
import { chainEventId } from '../../common/event-id.ts'
import type { ChainEvent } from '../../common/publisher.ts'
import { decodeMemo, MEMO_PROGRAM_ID, nullifierSeed, SYSTEM_PROGRAM_ID } from '../protocol.ts'
import { createWithSeedSchema, type FullBlock, type ParsedTransaction } from '../rpc/schemas.ts'

/**
 * Veridis facts in a Solana block (protocol.ts) → the pipeline's chain events. A fact counts
 * only from a transaction that succeeded and was signed by the authority it names:
 *
 * - NullifierUsed / NullifierRelayed: a Veridis memo plus, in the same transaction, the
 *   System program's createAccountWithSeed from the nullifier authority with the seed of that
 *   very (scope, nullifier) and the Memo program as owner — the account the chain refuses to
 *   create twice. A memo without it is ignored (anyone can write a memo).
 * - Attestation facts: a Veridis memo in a transaction the attester signed.
 *
 * The envelope: blockNumber is the slot, blockHash the block's blockhash, txHash the
 * transaction's first signature, emitter and registry the authority's address (there is no
 * program of ours), logIndex = transaction index in the block × 256 + instruction index.
 */
export interface SolanaAuthorities {
  /** Signs attestation memos. */
  readonly attestation?: string | undefined
  /** Base key of the nullifier marker accounts (the registry authority, also the relayer). */
  readonly nullifier?: string | undefined
}

export interface SolanaNormaliseContext {
  readonly chain: string
  readonly authorities: SolanaAuthorities
  readonly observedAt: number
}

const nonZero = (value: string | null) => (value === null || BigInt(value) === 0n ? null : value)

function envelope(
  context: SolanaNormaliseContext,
  fact: { slot: number; blockHash: string; signature: string; logIndex: number; emitter: string },
  finality: Finality,
): ChainEventEnvelope {
  return {
    eventId: chainEventId({
      chain: context.chain,
      blockHash: fact.blockHash,
      txHash: fact.signature,
      logIndex: fact.logIndex,
    }),
    chain: context.chain,
    blockNumber: fact.slot,
    blockHash: fact.blockHash,
    txHash: fact.signature,
    logIndex: fact.logIndex,
    emitter: fact.emitter,
    finality,
    observedAt: context.observedAt,
  }
}

/** Seeds of the marker accounts `base` created in this transaction (owner: the Memo program). */
function markerSeeds(tx: ParsedTransaction, base: string): Set<string> {
  const seeds = new Set<string>()
  for (const instruction of tx.transaction.message.instructions) {
    if (instruction.programId !== SYSTEM_PROGRAM_ID) continue
    const parsed = createWithSeedSchema.safeParse(instruction.parsed)
    if (parsed.success && parsed.data.info.base === base && parsed.data.info.owner === MEMO_PROGRAM_ID) {
      seeds.add(parsed.data.info.seed)
    }
  }
  return seeds
}

/** The chain events of one transaction of a block, in instruction order. */
export function normaliseSolanaTransaction(
  context: SolanaNormaliseContext,
  block: { slot: number; blockHash: string },
  tx: ParsedTransaction,
  txIndex: number,
  finality: Finality,
): ChainEvent[] {
  if (!tx.meta || tx.meta.err !== null) return []
  const signers = new Set(
    tx.transaction.message.accountKeys.filter((key) => key.signer).map((key) => key.pubkey),
  )
  const signature = tx.transaction.signatures[0]!
  const { attestation, nullifier } = context.authorities
  const seeds = nullifier && signers.has(nullifier) ? markerSeeds(tx, nullifier) : new Set<string>()
  const events: ChainEvent[] = []
  tx.transaction.message.instructions.forEach((instruction, index) => {
    if (instruction.programId !== MEMO_PROGRAM_ID || typeof instruction.parsed !== 'string') return
    const memo = decodeMemo(instruction.parsed)
    if (!memo) return
    const fact = (emitter: string) =>
      envelope(
        context,
        { slot: block.slot, blockHash: block.blockHash, signature, logIndex: txIndex * 256 + index, emitter },
        finality,
      )
    switch (memo.k) {
      case 'NullifierUsed':
      case 'NullifierRelayed': {
        if (!nullifier || !seeds.has(nullifierSeed(memo.scope, memo.nullifier))) return
        const relayed = memo.k === 'NullifierRelayed'
        events.push({
          topic: 'nullifier',
          value: {
            envelope: fact(nullifier),
            registry: nullifier,
            scope: memo.scope,
            nullifier: memo.nullifier,
            merkleTreeRoot: nonZero(memo.root),
            source: relayed ? 'RELAYER' : 'PROOF',
            originChain: relayed ? memo.origin : null,
            proof: null,
            publicSignals: [],
            message: null,
          } satisfies NullifierEvent,
        })
        return
      }
      default: {
        if (!attestation || !signers.has(attestation)) return
        const change =
          memo.k === 'AttestationIssued'
            ? {
                'io.veridis.chain.AttestationIssued': {
                  attestationId: memo.id,
                  issuer: attestation,
                  root: memo.root,
                  schemaId: memo.schema,
                },
              }
            : memo.k === 'AttestationRevoked'
              ? {
                  'io.veridis.chain.AttestationRevoked': {
                    attestationId: memo.id,
                    issuer: attestation,
                    reason: memo.reason === '' ? null : memo.reason,
                  },
                }
              : {
                  'io.veridis.chain.AttestationRootUpdated': {
                    issuer: attestation,
                    previousRoot: nonZero(memo.previousRoot),
                    root: memo.root,
                  },
                }
        events.push({
          topic: 'attestation',
          value: { envelope: fact(attestation), registry: attestation, change } satisfies AttestationEvent,
        })
      }
    }
  })
  return events
}

/** The events of the transactions with these signatures in a block, in block order. */
export function normaliseSolanaBlock(
  context: SolanaNormaliseContext,
  slot: number,
  block: FullBlock,
  signatures: ReadonlySet<string>,
  finality: Finality,
): ChainEvent[] {
  const events: ChainEvent[] = []
  block.transactions.forEach((tx, index) => {
    if (!signatures.has(tx.transaction.signatures[0]!)) return
    events.push(
      ...normaliseSolanaTransaction(context, { slot, blockHash: block.blockhash }, tx, index, finality),
    )
  })
  return events
}
