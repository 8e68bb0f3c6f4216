/**
 * The seam every chain family's propagation writer plugs into. A writer copies one use of a
 * nullifier, first seen on another chain, into its chain's nullifier registry. The
 * propagation driver (../propagate.ts) owns retries, the crash-safe bookkeeping and the
 * outcome records; a writer only speaks to its chain.
 *
 * The contract that makes propagation crash-safe: `prepare` signs a write without sending
 * it, the driver records it durably, then `broadcast` sends exactly those bytes; `status`
 * later tells whether that very write landed, is still in flight, or can never land (its
 * replay protection — an account nonce, a sequence, a recent blockhash — went to another
 * write). Only then may the driver prepare another one.
 */

/** A use to copy: where it was first seen, what to record. Field elements as decimal strings. */
export interface RelayedUse {
  readonly scope: string
  readonly nullifier: string
  readonly merkleTreeRoot: string | null
  /** CAIP-2 chain where the nullifier was first used. */
  readonly originChain: string
}

/** A signed write, not yet (or not known to be) on chain. */
export interface PreparedWrite {
  /** Transaction hash (or the chain's equivalent id): what `status` looks for. */
  readonly txHash: string
  /** The sender's replay-protection counter the write consumes (EVM: account nonce), as a decimal string. */
  readonly nonce: string
  /** The signed bytes, hex: broadcasting them again can never produce a second write. */
  readonly signed: string
}

export type WriteStatus =
  | { readonly state: 'confirmed'; readonly blockNumber: number }
  /** Mined but failed: the registry refused (most likely the nullifier was there by then). */
  | { readonly state: 'reverted'; readonly blockNumber: number }
  /** The node knows the write and has not included it yet. */
  | { readonly state: 'pending' }
  /** The node does not know it, and its nonce is still free: broadcast the same bytes again. */
  | { readonly state: 'unknown' }
  /** Its nonce went to another write: this one can never land. */
  | { readonly state: 'dropped' }

export interface NullifierWriter {
  /** CAIP-2 chain id. */
  readonly chain: string
  /** The relayer's address on this chain (never its key). */
  readonly sender: string
  isUsed(scope: string, nullifier: string): Promise<boolean>
  /** The next free nonce of the sender, counting writes the node holds but has not mined. */
  nextNonce(): Promise<bigint>
  /** Signs a registration of `use` with `nonce`; throws AlreadyPresentError when the registry would refuse it as used. */
  prepare(use: RelayedUse, nonce: bigint): Promise<PreparedWrite>
  /** Sends a write the driver has recorded (only those): its nonce counts as taken from the call on. */
  broadcast(write: PreparedWrite): Promise<void>
  status(write: PreparedWrite): Promise<WriteStatus>
  close(): void
}

/** The target registry already holds the nullifier: nothing to write. */
export class AlreadyPresentError extends Error {
  override name = 'AlreadyPresentError'
}
