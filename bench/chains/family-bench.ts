/**
 * What one chain family's part of `bin/veridis bench chains` measures (bench/chains.ts runs
 * each family listed in bench/chains/index.ts, in one process, and prints the table).
 *
 * Both throughput figures are taken in the same run over the same range of the family's
 * local node, so their ratio holds on a noisy machine even when the absolute numbers move.
 */
export interface FamilyBenchResult {
  readonly family: string
  /** The chain the range was read from (CAIP-2). */
  readonly chain: string
  /** Events in the measured range. */
  readonly events: number
  /** The listener: RPC → normalise → Avro → Kafka (acks=all) → cursor committed. */
  readonly listenerEventsPerSecond: number
  /** The same range read through the family's own client, decoded, nothing published. */
  readonly rawEventsPerSecond: number
  /** Nullifier propagation, per direction: a use on `from` seen recorded on `to`. */
  readonly propagation: readonly PropagationFigure[]
}

export interface PropagationFigure {
  readonly from: string
  readonly to: string
  readonly samples: number
  readonly p50Ms: number
  readonly p99Ms: number
}

export interface FamilyBenchOptions {
  readonly events: number
  readonly rounds: number
  /** Uses sent per direction for the propagation latency. */
  readonly uses: number
}

export type FamilyBench = (options: FamilyBenchOptions) => Promise<FamilyBenchResult>
