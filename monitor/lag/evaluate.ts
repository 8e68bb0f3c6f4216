/**
 * Consumer status over a sliding window of observations, after Burrow's evaluation rules
 * (github.com/linkedin/Burrow/wiki/Consumer-Lag-Evaluation-Rules), adapted to what the
 * Kafka admin API can see (it shows committed offsets, not commit timestamps):
 *
 * - REWIND: the committed offset went backwards within the window;
 * - OK: the lag was zero at some point in the window;
 * - STALL: the committed offset did not move across the whole window while lag stayed
 *   positive, and the group still has members (they are alive but not progressing);
 * - STOP: the same, with nobody in the group (commits stopped because consumers stopped);
 * - WARN: offsets move but the lag grew between every pair of observations (falling behind);
 * - OK otherwise.
 * A group is ERR when any partition is REWIND, STALL or STOP, or when its offsets could not
 * be read; WARN when any partition is WARN.
 */
export const PartitionStatus = {
  OK: 'OK',
  WARN: 'WARN',
  STALL: 'STALL',
  STOP: 'STOP',
  REWIND: 'REWIND',
} as const
export type PartitionStatus = (typeof PartitionStatus)[keyof typeof PartitionStatus]

export const GroupStatus = { OK: 'OK', WARN: 'WARN', ERR: 'ERR' } as const
export type GroupStatus = (typeof GroupStatus)[keyof typeof GroupStatus]

/** Numeric codes for Prometheus, in order of severity. */
export const PARTITION_STATUS_CODE: Record<PartitionStatus, number> = {
  OK: 0,
  WARN: 1,
  STALL: 2,
  STOP: 3,
  REWIND: 4,
}
export const GROUP_STATUS_CODE: Record<GroupStatus, number> = { OK: 0, WARN: 1, ERR: 2 }

export interface Observation {
  readonly at: number
  readonly committed: number
  readonly lag: number
}

/**
 * `windowSize` is how many observations make a full window: until then only REWIND and OK
 * are said, so a monitor that just started (or a short rebalance) raises no false alarm.
 */
export function evaluatePartition(
  window: readonly Observation[],
  groupHasMembers: boolean,
  windowSize = 2,
): PartitionStatus {
  for (let index = 1; index < window.length; index++) {
    if (window[index]!.committed < window[index - 1]!.committed) return PartitionStatus.REWIND
  }
  if (window.length === 0 || window.some((observation) => observation.lag === 0)) return PartitionStatus.OK
  if (window.length < Math.max(2, windowSize)) return PartitionStatus.OK
  const first = window[0]!
  const last = window[window.length - 1]!
  if (first.committed === last.committed)
    return groupHasMembers ? PartitionStatus.STALL : PartitionStatus.STOP
  let growing = true
  for (let index = 1; index < window.length; index++) {
    if (window[index]!.lag <= window[index - 1]!.lag) growing = false
  }
  return growing ? PartitionStatus.WARN : PartitionStatus.OK
}

export function worstPartitionStatus(statuses: readonly PartitionStatus[]): PartitionStatus {
  let worst: PartitionStatus = PartitionStatus.OK
  for (const status of statuses)
    if (PARTITION_STATUS_CODE[status] > PARTITION_STATUS_CODE[worst]) worst = status
  return worst
}

export function groupStatus(statuses: readonly PartitionStatus[], offsetsReadable = true): GroupStatus {
  if (!offsetsReadable) return GroupStatus.ERR
  const worst = worstPartitionStatus(statuses)
  if (worst === PartitionStatus.OK) return GroupStatus.OK
  return worst === PartitionStatus.WARN ? GroupStatus.WARN : GroupStatus.ERR
}
