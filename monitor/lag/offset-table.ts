/**
 * When was a given offset produced? Kafka does not say, so, like kafka-lag-exporter, we
 * keep per partition a table of log-end offset samples and interpolate between the two
 * around the offset in question. Offsets are kept strictly increasing; a sample whose
 * log-end offset did not move only extends the flat segment (`lastSeenAt`): a partition
 * idle for an hour and then written to must not date its new message an hour back.
 */
export interface OffsetSample {
  readonly offset: number
  /** When the log end was first seen at this offset. */
  readonly at: number
  /** When it was last seen there: the next message was produced after this. */
  lastSeenAt: number
}

export class OffsetTable {
  private readonly samples: OffsetSample[] = []

  constructor(private readonly capacity = 240) {}

  /** Records the partition's log-end offset as seen at `at`. */
  add(offset: number, at: number): void {
    const last = this.samples[this.samples.length - 1]
    if (last && offset === last.offset) {
      last.lastSeenAt = Math.max(last.lastSeenAt, at)
      return
    }
    if (last && offset < last.offset) {
      // A log-end offset that went backwards means the topic was recreated: start afresh.
      this.samples.splice(0, this.samples.length, { offset, at, lastSeenAt: at })
      return
    }
    this.samples.push({ offset, at, lastSeenAt: at })
    if (this.samples.length > this.capacity) this.samples.shift()
  }

  get size(): number {
    return this.samples.length
  }

  /**
   * Estimated time at which the message at `offset` was produced: the moment the log end
   * passed it. Outside the table the estimate extrapolates the table's overall rate, and is
   * never later than the oldest sample (so lag in seconds is at least what we saw).
   */
  producedAt(offset: number): number | undefined {
    const samples = this.samples
    if (samples.length === 0) return undefined
    const first = samples[0]!
    const last = samples[samples.length - 1]!
    if (offset >= last.offset) return undefined // not produced yet: no lag
    if (offset < first.offset) {
      if (samples.length === 1 || last.offset === first.offset) return first.at
      const rate = (last.at - first.at) / (last.offset - first.offset)
      return Math.min(first.at, first.at - (first.offset - offset) * rate)
    }
    // Binary search for the first sample past the offset; the one before it is at or below.
    let low = 0
    let high = samples.length - 1
    while (low < high) {
      const middle = (low + high) >> 1
      if (samples[middle]!.offset > offset) high = middle
      else low = middle + 1
    }
    const after = samples[low]!
    const before = samples[low - 1]!
    return (
      before.lastSeenAt +
      ((offset - before.offset) * (after.at - before.lastSeenAt)) / (after.offset - before.offset)
    )
  }

  /** Lag in seconds of a consumer whose next offset to read is `committed`. */
  lagSeconds(committed: number, now: number): number {
    const producedAt = this.producedAt(committed)
    return producedAt === undefined ? 0 : Math.max(0, (now - producedAt) / 1000)
  }
}
