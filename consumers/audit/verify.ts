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

interface ChainState {
  nextSequence: number
  headHash: string
  verified: number
  /** Sequences skipped by a jump, with the problem that reported them: a late one means reordering. */
  missing: Map<number, number>
}

const MAX_TRACKED_MISSING = 10_000

/**
 * Verifies the records of a topic's chains, fed in offset order per partition. A record
 * whose content does not match its hash was changed; a sequence that jumps ahead means
 * records were removed; one that goes back means records were reordered or repeated; a
 * prevHash that is not the previous record's hash means the link was forged. After a
 * problem the verifier resynchronises on the record it found, so one tampered record is
 * reported once and the records after it are still checked.
 */
export function createChainVerifier(options: { fromStart: boolean }) {
  const chains = new Map<number, ChainState>()
  const problems: ChainProblem[] = []

  const report = (kind: ChainProblemKind, partition: number, offset: string, message: string) =>
    problems.push({
      kind,
      partition,
      offset,
      message: `partition ${partition} offset ${offset}: ${message}`,
    }) - 1

  return {
    problems,
    chains,

    undecodable(partition: number, offset: string, error: unknown) {
      report('undecodable', partition, offset, `not a valid audit record (${String(error)})`)
    },

    /**
     * `start` is the head the chain is expected to continue from (replay from an offset
     * or a time starts from the first record read, checked only for its own hash).
     */
    accept(partition: number, offset: string, record: AuditEvent) {
      let state = chains.get(partition)
      if (record.recordHash !== recordHashOf(record)) {
        report('changed', partition, offset, `record ${record.auditId} does not match its recordHash`)
        // The content cannot be trusted; step past it as if it held its claimed place.
        if (state) {
          state.nextSequence = record.sequence + 1
          state.headHash = record.recordHash
        }
        return
      }
      if (record.chainId !== chainIdOf(partition)) {
        report(
          'wrong-chain',
          partition,
          offset,
          `record of chain ${record.chainId} in partition ${partition}`,
        )
        return
      }
      if (!state) {
        state = {
          nextSequence: options.fromStart ? 0 : record.sequence,
          headHash: GENESIS_HASH,
          verified: 0,
          missing: new Map(),
        }
        if (!options.fromStart) state.headHash = record.prevHash
        chains.set(partition, state)
      }
      if (record.sequence > state.nextSequence) {
        const index = report(
          'removed',
          partition,
          offset,
          `sequence ${record.sequence} follows ${state.nextSequence - 1}: ${record.sequence - state.nextSequence} record(s) missing before it`,
        )
        for (let missing = state.nextSequence; missing < record.sequence; missing++) {
          if (state.missing.size >= MAX_TRACKED_MISSING) break
          state.missing.set(missing, index)
        }
      } else if (record.sequence < state.nextSequence) {
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
        } else {
          report(
            'reordered',
            partition,
            offset,
            `sequence ${record.sequence} after ${state.nextSequence - 1}: reordered or repeated`,
          )
        }
      } else if (record.prevHash !== state.headHash) {
        report('broken-link', partition, offset, `prevHash does not match the record before it`)
      } else {
        state.verified++
      }
      if (record.sequence >= state.nextSequence) {
        state.nextSequence = record.sequence + 1
        state.headHash = record.recordHash
      }
    },
  }
}

export type ChainVerifier = ReturnType<typeof createChainVerifier>
