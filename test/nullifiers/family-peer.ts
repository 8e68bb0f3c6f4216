import type { TestChain } from '../evm/support.ts'
import type { ListenerProcess } from '../support/chain-listener.ts'

/**
 * A non-EVM chain's local node as a peer for nullifier propagation, built by its family's
 * test/<family>/support.ts and used by both the cross-family suite (test/nullifiers/cross-family.ts)
 * and the bench's propagation half (bench/chains/propagation.ts). Nothing here depends on
 * vitest: the bench runs outside it.
 */
export interface FamilyPeer {
  readonly chain: string
  /** The nullifier consumer's environment for this chain: configuration file, relayer key. */
  readonly consumerEnv: NodeJS.ProcessEnv
  /** The family's listener as a real process in `namespace`. */
  startListener(namespace: string): Promise<ListenerProcess>
  /** Records a use; resolves, once included, with the transaction id the double-use alert names. */
  use(scope: bigint, nullifier: bigint): Promise<string>
  isUsed(scope: bigint, nullifier: bigint): Promise<boolean>
  /** Resolves when a second use of (scope, nullifier) is refused on-chain; rejects if it is accepted. */
  expectSecondUseRefused(scope: bigint, nullifier: bigint): Promise<void>
  /**
   * Makes the uses so far final, for chains whose finality comes only on request (StarkNet's
   * L1 acceptance): once before the consumer starts in the suite, continually in the bench.
   */
  finalise?(): Promise<void>
  /**
   * Produces blocks on a clock, on this chain and on `anvils`, for chains that only make them
   * on demand (chopsticks); returns its stop.
   */
  keepProducingBlocks?(anvils: readonly TestChain[]): () => void
  /** Text the double-use alert must carry about this chain's guarantee. */
  readonly guarantee?: string
  /** The form transaction ids are compared in, where the alert spells them differently (felts). */
  normaliseTxId?(id: string): string
  stop(): Promise<void>
}

/** Resolves when `attempt` rejects with a message matching `reason`; rejects otherwise. */
export async function expectRejection(attempt: Promise<unknown>, reason: RegExp): Promise<void> {
  let outcome: string
  try {
    await attempt
    outcome = 'it succeeded'
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    if (reason.test(message)) return
    outcome = `it failed otherwise: ${message}`
  }
  throw new Error(`expected a rejection matching ${reason}, but ${outcome}`)
}
