import type { Registry } from 'prom-client'
import { gauge } from '../../core/metrics/define.ts'
import {
  evaluatePartition,
  GROUP_STATUS_CODE,
  type GroupStatus,
  groupStatus,
  type Observation,
  PARTITION_STATUS_CODE,
  type PartitionStatus,
  worstPartitionStatus,
} from './evaluate.ts'
import { OffsetTable } from './offset-table.ts'
import type { ClusterSnapshot } from './poll.ts'

/**
 * The lag monitor's memory: offset tables and observation windows per partition, a short
 * history per group for the dashboard, and the Prometheus gauges. It is fed one cluster
 * snapshot per poll and holds nothing that cannot be rebuilt by polling again.
 */
export interface PartitionView {
  topic: string
  partition: number
  committedOffset: string | null
  latestOffset: string
  lag: number
  lagSeconds: number
  status: PartitionStatus
}

export interface GroupView {
  group: string
  state: string
  status: GroupStatus
  worstPartitionStatus: PartitionStatus
  members: number
  totalLag: number
  maxLagSeconds: number
  error?: string
  topics: { topic: string; lag: number; maxLagSeconds: number }[]
  partitions: PartitionView[]
  history: { at: number; totalLag: number; maxLagSeconds: number; status: GroupStatus }[]
}

export interface LagView {
  generatedAt: number
  pollIntervalMs: number
  dlq: { topic: string; messages: number }
  groups: GroupView[]
}

const HISTORY = 180

export function createLagState(options: {
  registry: Registry
  window: number
  pollIntervalMs: number
  dlqTopic: string
}) {
  const tables = new Map<string, OffsetTable>()
  const windows = new Map<string, Observation[]>()
  const histories = new Map<string, GroupView['history']>()
  let view: LagView = {
    generatedAt: 0,
    pollIntervalMs: options.pollIntervalMs,
    dlq: { topic: options.dlqTopic, messages: 0 },
    groups: [],
  }

  const registry = options.registry
  const partitionLabels = ['group', 'topic', 'partition'] as const
  const gauges = {
    lag: gauge(
      registry,
      'kafka_consumergroup_lag',
      'Messages between the committed offset and the log end, per partition.',
      partitionLabels,
    ),
    lagSeconds: gauge(
      registry,
      'kafka_consumergroup_lag_seconds',
      'Estimated age of the next message the group will read, per partition.',
      partitionLabels,
    ),
    partitionStatus: gauge(
      registry,
      'kafka_consumergroup_partition_status',
      'Partition status: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND.',
      partitionLabels,
    ),
    topicLag: gauge(
      registry,
      'kafka_consumergroup_topic_lag',
      'Lag of a group summed over the partitions of a topic.',
      ['group', 'topic'] as const,
    ),
    groupLag: gauge(
      registry,
      'kafka_consumergroup_group_lag',
      'Lag of a group summed over all its partitions.',
      ['group'] as const,
    ),
    maxLagSeconds: gauge(
      registry,
      'kafka_consumergroup_max_lag_seconds',
      'Largest lag in seconds over the partitions of a group.',
      ['group'] as const,
    ),
    groupStatus: gauge(registry, 'kafka_consumergroup_status', 'Group status: 0 OK, 1 WARN, 2 ERR.', [
      'group',
    ] as const),
    groupMembers: gauge(registry, 'kafka_consumergroup_members', 'Members currently in the group.', [
      'group',
    ] as const),
    dlq: gauge(
      registry,
      'veridis_dlq_messages',
      'Messages currently held in the dead-letter topic (log end minus log start).',
      ['topic'] as const,
    ),
  }

  return {
    view: () => view,

    /** Folds one snapshot in and rebuilds the view and every gauge in one synchronous step. */
    update(snapshot: ClusterSnapshot): LagView {
      for (const [topic, offsets] of snapshot.topics) {
        for (const [partition, { high }] of offsets.partitions) {
          const key = `${topic}\u0000${partition}`
          let table = tables.get(key)
          if (!table) {
            table = new OffsetTable()
            tables.set(key, table)
          }
          table.add(high, snapshot.at)
        }
      }

      const groups: GroupView[] = []
      for (const group of snapshot.groups) {
        const partitions: PartitionView[] = []
        for (const [topic, committedByPartition] of group.committed ?? []) {
          const offsets = snapshot.topics.get(topic)
          if (!offsets) continue
          for (const [partition, { high }] of offsets.partitions) {
            const committed = committedByPartition.get(partition)
            const lag = committed === undefined ? 0 : Math.max(0, high - committed)
            const key = `${group.group}\u0000${topic}\u0000${partition}`
            let status: PartitionStatus = 'OK'
            let lagSeconds = 0
            if (committed !== undefined) {
              const window = windows.get(key) ?? []
              window.push({ at: snapshot.at, committed, lag })
              if (window.length > options.window) window.shift()
              windows.set(key, window)
              status = evaluatePartition(window, group.members > 0, options.window)
              lagSeconds = tables.get(`${topic}\u0000${partition}`)?.lagSeconds(committed, snapshot.at) ?? 0
            }
            partitions.push({
              topic,
              partition,
              committedOffset: committed === undefined ? null : String(committed),
              latestOffset: String(high),
              lag,
              lagSeconds,
              status,
            })
          }
        }
        partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
        const statuses = partitions.map((partition) => partition.status)
        const byTopic = new Map<string, { topic: string; lag: number; maxLagSeconds: number }>()
        for (const partition of partitions) {
          const entry = byTopic.get(partition.topic) ?? { topic: partition.topic, lag: 0, maxLagSeconds: 0 }
          entry.lag += partition.lag
          entry.maxLagSeconds = Math.max(entry.maxLagSeconds, partition.lagSeconds)
          byTopic.set(partition.topic, entry)
        }
        const status = groupStatus(statuses, group.committed !== undefined)
        const totalLag = partitions.reduce((sum, partition) => sum + partition.lag, 0)
        const maxLagSeconds = partitions.reduce((max, partition) => Math.max(max, partition.lagSeconds), 0)
        const history = histories.get(group.group) ?? []
        history.push({ at: snapshot.at, totalLag, maxLagSeconds, status })
        if (history.length > HISTORY) history.shift()
        histories.set(group.group, history)
        groups.push({
          group: group.group,
          state: group.state,
          status,
          worstPartitionStatus: worstPartitionStatus(statuses),
          members: group.members,
          totalLag,
          maxLagSeconds,
          ...(group.error ? { error: group.error } : {}),
          topics: [...byTopic.values()],
          partitions,
          history: [...history],
        })
      }

      // Forget groups and partitions that are gone, so their series stop being exported.
      const liveGroups = new Set(groups.map((group) => group.group))
      for (const group of histories.keys()) if (!liveGroups.has(group)) histories.delete(group)
      const livePartitions = new Set(
        groups.flatMap((group) =>
          group.partitions.map(
            (partition) => `${group.group}\u0000${partition.topic}\u0000${partition.partition}`,
          ),
        ),
      )
      for (const key of windows.keys()) if (!livePartitions.has(key)) windows.delete(key)
      for (const key of tables.keys()) if (!snapshot.topics.has(key.split('\u0000')[0]!)) tables.delete(key)

      const dlqOffsets = snapshot.topics.get(options.dlqTopic)
      const dlqMessages = dlqOffsets
        ? [...dlqOffsets.partitions.values()].reduce((sum, { low, high }) => sum + (high - low), 0)
        : 0

      for (const gauge of Object.values(gauges)) gauge.reset()
      for (const group of groups) {
        gauges.groupLag.set({ group: group.group }, group.totalLag)
        gauges.maxLagSeconds.set({ group: group.group }, group.maxLagSeconds)
        gauges.groupStatus.set({ group: group.group }, GROUP_STATUS_CODE[group.status])
        gauges.groupMembers.set({ group: group.group }, group.members)
        for (const topic of group.topics)
          gauges.topicLag.set({ group: group.group, topic: topic.topic }, topic.lag)
        for (const partition of group.partitions) {
          const labels = {
            group: group.group,
            topic: partition.topic,
            partition: String(partition.partition),
          }
          gauges.lag.set(labels, partition.lag)
          gauges.lagSeconds.set(labels, partition.lagSeconds)
          gauges.partitionStatus.set(labels, PARTITION_STATUS_CODE[partition.status])
        }
      }
      gauges.dlq.set({ topic: options.dlqTopic }, dlqMessages)

      view = {
        generatedAt: snapshot.at,
        pollIntervalMs: options.pollIntervalMs,
        dlq: { topic: options.dlqTopic, messages: dlqMessages },
        groups: groups.sort(
          (a, b) =>
            GROUP_STATUS_CODE[b.status] - GROUP_STATUS_CODE[a.status] || a.group.localeCompare(b.group),
        ),
      }
      return view
    },
  }
}
