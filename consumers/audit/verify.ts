import type { AuditEvent } from '../../core/bus/types.ts'
import { chainIdOf, GENESIS_HASH, recordHashOf } from './record.ts'

export type ChainProblemKind =
  | 'undecodable'
  | 'changed'
  | 'wrong-chain'
  | 'removed'
  | 'reordered'
  | 'broken-link'
  | 'forged'

export interface ChainProblem {
  readonly kind: ChainProblemKind
  readonly partition: number
  readonly offset: string
  readonly message: string
}

/** A record the audit service's chain state vouches for: the chain must hold it at this sequence. */
export interface ChainAnchor {
  readonly sequence: number
  readonly recordHash: string
}

interface ChainState {
  /** The sequence the next record should carry: one past the last record that fitted the chain. */
  nextSequence: number
  /** The recordHash the next record should link to. */
  headHash: string
  /**
   * A second record found at the head's sequence, linked to the same predecessor (a fork:
   * one of the two is forged). The next record may continue either; the fork is reported once.
   */
  siblingHash: string | undefined
  /** The hash the head record linked to, to recognise a sibling of the head. */
  headPrevHash: string
  /**
   * Records since the head that cannot be trusted: their content does not match their hash,
   * they do not decode, or they do not link. Each is already reported and may have stood in
   * for one genuine record (tampered in place) or been an addition (inserted). So the next
   * record may continue from the head as if they were not there, or carry a sequence up to
   * this many places further — then its link cannot be checked, as it links to a record that
   * was reported. Either way the genuine records after one bad record verify.
   */
  untrusted: number
  verified: number
  /** Sequences skipped by a jump, with the problem that reported them: a late one means reordering. */
  missing: Map<number, number>
  /** Whether the anchor's record was found at its sequence, or where another record was found there. */
  anchor: { matched: boolean; mismatchOffset?: string } | undefined
}

const MAX_TRACKED_MISSING = 10_000

/**
 * Verifies the records of a topic's chains, fed in offset order per partition. A record
 * whose content does not match its hash was changed; a sequence that jumps ahead means
 * records were removed; one that goes back means records were reordered or repeated; a
 * prevHash that is not the previous record's hash means the link was forged.
 *
 * One bad record is one report: a record that fails its own hash or its link is never taken
 * as the head the next record must follow (a forger can write anything into it, including a
 * sequence or hash that would blame the genuine records after it). The next record may follow
 * the last good head directly (the bad record was inserted) or one place later (it replaced a
 * genuine record), and the chain carries on from there.
 *
 * `anchors` (per partition) are records the chain state says were published: a full replay
 * checks the chain holds each of them, so a chain rewritten with recomputed hashes, or cut
 * short, shows even though it links.
 */
export function createChainVerifier(options: {
  fromStart: boolean
  anchors?: ReadonlyMap<number, ChainAnchor>
}) {
  const chains = new Map<number, ChainState>()
  const problems: ChainProblem[] = []

  const report = (kind: ChainProblemKind, partition: number, offset: string, message: string) =>
    problems.push({
      kind,
      partition,
      offset,
      message: `partition ${partition} offset ${offset}: ${message}`,
    }) - 1

  const freshState = (nextSequence: number, headHash: string): ChainState => ({
    nextSequence,
    headHash,
    headPrevHash: GENESIS_HASH,
    siblingHash: undefined,
    untrusted: 0,
    verified: 0,
    missing: new Map(),
    anchor: undefined,
  })

  /** A record nothing can be trusted about takes no place in the chain, but may stand in for one. */
  const distrust = (partition: number) => {
    const state = chains.get(partition)
    if (state) state.untrusted++
    // From the start, a chain whose first record is bad still begins at sequence 0.
    else if (options.fromStart) chains.set(partition, { ...freshState(0, GENESIS_HASH), untrusted: 1 })
  }

  const noteAnchor = (partition: number, state: ChainState, offset: string, record: AuditEvent) => {
    const anchor = options.anchors?.get(partition)
    if (!anchor || record.sequence !== anchor.sequence || state.anchor?.matched) return
    state.anchor =
      record.recordHash === anchor.recordHash
        ? { matched: true }
        : { matched: false, mismatchOffset: state.anchor?.mismatchOffset ?? offset }
  }

  const advance = (state: ChainState, record: AuditEvent) => {
    state.nextSequence = record.sequence + 1
    state.headPrevHash = record.prevHash
    state.headHash = record.recordHash
    state.siblingHash = undefined
    state.untrusted = 0
  }

  return {
    problems,
    chains,

    undecodable(partition: number, offset: string, error: unknown) {
      report('undecodable', partition, offset, `not a valid audit record (${String(error)})`)
      distrust(partition)
    },

    /**
     * From the start, a chain begins at sequence 0 after GENESIS_HASH; from an offset or a
     * time, the first record read is taken as the start, checked only for its own hash.
     */
    accept(partition: number, offset: string, record: AuditEvent) {
      if (record.recordHash !== recordHashOf(record)) {
        report('changed', partition, offset, `record ${record.auditId} does not match its recordHash`)
        distrust(partition)
        return
      }
      if (record.chainId !== chainIdOf(partition)) {
        // A record of another chain is an addition to this one, not a stand-in for one of its records.
        report(
          'wrong-chain',
          partition,
          offset,
          `record of chain ${record.chainId} in partition ${partition}`,
        )
        return
      }
      let state = chains.get(partition)
      if (!state) {
        state = options.fromStart ? freshState(0, GENESIS_HASH) : freshState(record.sequence, record.prevHash)
        chains.set(partition, state)
      }
      noteAnchor(partition, state, offset, record)

      const expected = state.nextSequence
      if (record.sequence === expected) {
        if (record.prevHash === state.headHash || record.prevHash === state.siblingHash) {
          state.verified++
          advance(state, record)
        } else {
          report('broken-link', partition, offset, 'prevHash does not match the record before it')
          state.untrusted++
        }
        return
      }
      if (record.sequence > expected && record.sequence <= expected + state.untrusted) {
        // The records in between were reported; this one links to one of them.
        state.verified++
        advance(state, record)
        return
      }
      if (record.sequence > expected) {
        // Bad records already reported may have held some of the missing places.
        const firstMissing = expected + state.untrusted
        const index = report(
          'removed',
          partition,
          offset,
          `sequence ${record.sequence} follows ${expected - 1}: ${record.sequence - firstMissing} record(s) missing before it`,
        )
        for (let missing = firstMissing; missing < record.sequence; missing++) {
          if (state.missing.size >= MAX_TRACKED_MISSING) break
          state.missing.set(missing, index)
        }
        advance(state, record)
        return
      }
      // A sequence already passed.
      const earlier = state.missing.get(record.sequence)
      const jumped = earlier === undefined ? undefined : problems[earlier]
      if (earlier !== undefined && jumped) {
        // The record said to be missing turned up later: it was moved, not removed.
        state.missing.delete(record.sequence)
        problems[earlier] = {
          ...jumped,
          kind: 'reordered',
          message: `partition ${partition} offset ${jumped.offset}: out of order; sequence ${record.sequence} belongs here and was found later at offset ${offset}`,
        }
      } else if (
        record.sequence === expected - 1 &&
        record.prevHash === state.headPrevHash &&
        record.recordHash !== state.headHash
      ) {
        report(
          'reordered',
          partition,
          offset,
          `a second record at sequence ${record.sequence}, linked to the same predecessor as the first: one of the two was forged`,
        )
        state.siblingHash = record.recordHash
      } else {
        report(
          'reordered',
          partition,
          offset,
          `sequence ${record.sequence} after ${expected - 1}: reordered or repeated`,
        )
      }
    },

    /**
     * The sequence the chain reaches: one past its last good record, or, when it ends with bad
     * records (each already reported), as far as they could stand for.
     */
    reach(partition: number): number {
      const state = chains.get(partition)
      return state ? state.nextSequence + state.untrusted : 0
    },

    /** Whether the partition's anchor was found ('matched'), another record held its place, or neither. */
    anchorOutcome(partition: number): { matched: true } | { matched: false; mismatchOffset?: string } {
      const anchor = chains.get(partition)?.anchor
      return anchor ?? { matched: false }
    },
  }
}
