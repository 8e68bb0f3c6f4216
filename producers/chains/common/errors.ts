import { NonRetryableError, RetryableError } from '../../../core/errors.ts'

/** The chain's configuration does not match what its endpoints serve; an operator must act. */
export class MisconfiguredChainError extends NonRetryableError {
  override name = 'MisconfiguredChainError'
}

/** A block published FINALIZED left the chain: the finality rule was too weak, or the chain was reset. */
export class DeepReorgError extends NonRetryableError {
  override name = 'DeepReorgError'
}

/**
 * The node answering lacks a block we have published (or its head is below our cursor): it
 * is behind its peers (a failover, a load balancer), which says nothing about a reorg. The
 * step is retried later; only a different hash at a height is a reorg.
 */
export class NodeBehindError extends RetryableError {
  override name = 'NodeBehindError'
}

/**
 * The node no longer keeps blocks the listener has still to read (a pruned ledger, a node
 * without long-term storage). Retrying cannot bring them back and carrying on would skip their
 * events for good: an operator must point the chain at a node with that history, or give the
 * blocks up explicitly by moving the start past them.
 */
export class HistoryUnavailableError extends NonRetryableError {
  override name = 'HistoryUnavailableError'
}
