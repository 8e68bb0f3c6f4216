import type { Finality } from '../../../core/bus/types.ts'
import type { ChainFamily } from '../../../core/chains.ts'
import type { ChainEvent } from './publisher.ts'

/**
 * What a chain family gives the listener engine (engine.ts). The engine owns everything
 * that makes a listener trustworthy — the durable cursor, finality progression, reorg
 * detection against stored hashes, RETRACTED, "node behind", bounded catch-up — so every
 * family follows the same rules; a source only answers questions about its chain.
 *
 * Heights are whatever the family numbers its blocks by (EVM and StarkNet blocks, Cosmos
 * heights, Solana slots, Substrate block numbers); hashes are compared as strings.
 */
export interface BlockRef {
  readonly number: number
  readonly hash: string
  readonly parentHash: string
}

export interface ChainSource {
  readonly chain: string
  readonly family: ChainFamily
  /** The endpoint answering now, credentials redacted (logs, chain_listener_state). */
  activeEndpoint(): string
  /**
   * Checks that the endpoints serve the configured chain and that what is to be followed
   * exists there; throws MisconfiguredChainError otherwise. Returns what to log on success.
   */
  preflight(): Promise<Record<string, unknown>>
  /** The newest block the node knows. */
  head(): Promise<number>
  /** The highest block the chain's finality rule makes final, given the head; -1 for none yet. */
  finalizedTarget(head: number): Promise<number>
  /** The block at a height, or null when the node does not have it (behind, or no such block). */
  header(number: number): Promise<BlockRef | null>
  /**
   * The protocol's events of blocks `from`..`to` inclusive, normalised, in chain order, every
   * one with the given finality. Each envelope names the block hash it was read from, which
   * the engine checks against the headers it holds.
   */
  events(from: number, to: number, finality: Finality): Promise<ChainEvent[]>
  /** New-head notifications, if the family has them; they only wake the engine early. */
  watchHeads?(onHead: () => void, signal: AbortSignal): { stop(): Promise<void> }
  destroy(): void
}

/** How the engine paces one chain; part of each chain's configuration. */
export interface FollowSettings {
  /** First block of interest (the contracts' deployment block). */
  readonly startBlock: number
  /** Most already-final blocks published per catch-up step. */
  readonly maxBlockRange: number
  /** Most not-yet-final blocks (headers + events) fetched per step near the head. */
  readonly maxHeadBatch: number
  /** Poll interval when no new-head notification arrives. */
  readonly pollIntervalMs: number
}
