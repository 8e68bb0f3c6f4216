import type { Admin } from 'kafkajs'

/**
 * One look at the cluster, with nothing but the admin API: every consumer group, its state
 * and members, its committed offsets, and the log-start/log-end offsets of every topic
 * those groups read (plus any topic asked for explicitly, like the dead-letter topic).
 */
export interface GroupSnapshot {
  readonly group: string
  readonly state: string
  readonly members: number
  /** Committed offsets by topic and partition; absent when the group's offsets could not be read. */
  readonly committed: ReadonlyMap<string, ReadonlyMap<number, number>> | undefined
  readonly error?: string
}

export interface TopicOffsets {
  readonly partitions: ReadonlyMap<number, { readonly low: number; readonly high: number }>
}

export interface ClusterSnapshot {
  readonly at: number
  readonly groups: readonly GroupSnapshot[]
  readonly topics: ReadonlyMap<string, TopicOffsets>
}

const CONCURRENCY = 8

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index]!)
    }
  })
  await Promise.all(workers)
  return results
}

export async function pollCluster(
  admin: Admin,
  options: { groupFilter?: RegExp; extraTopics?: readonly string[] } = {},
): Promise<ClusterSnapshot> {
  // Lag is dated when the look began: the log-end offsets are read within it.
  const at = Date.now()
  const listed = await admin.listGroups()
  const groupIds = listed.groups
    .filter((group) => group.protocolType === 'consumer' || group.protocolType === '')
    .map((group) => group.groupId)
    .filter((groupId) => !options.groupFilter || options.groupFilter.test(groupId))
    .sort()
  const described = groupIds.length > 0 ? await admin.describeGroups(groupIds) : { groups: [] }
  const descriptions = new Map(described.groups.map((group) => [group.groupId, group]))

  const groups = await mapLimited(groupIds, CONCURRENCY, async (groupId): Promise<GroupSnapshot> => {
    const description = descriptions.get(groupId)
    const base = {
      group: groupId,
      state: description?.state ?? 'Unknown',
      members: description?.members.length ?? 0,
    }
    try {
      const offsets = await admin.fetchOffsets({ groupId })
      const committed = new Map<string, Map<number, number>>()
      for (const topic of offsets) {
        const partitions = new Map<number, number>()
        for (const partition of topic.partitions) {
          const offset = Number(partition.offset)
          if (offset >= 0) partitions.set(partition.partition, offset)
        }
        if (partitions.size > 0) committed.set(topic.topic, partitions)
      }
      return { ...base, committed }
    } catch (error) {
      return { ...base, committed: undefined, error: error instanceof Error ? error.message : String(error) }
    }
  })

  const topicNames = new Set(options.extraTopics ?? [])
  for (const group of groups) for (const topic of group.committed?.keys() ?? []) topicNames.add(topic)
  const existing = new Set(await admin.listTopics())
  const topics = new Map<string, TopicOffsets>()
  await mapLimited(
    [...topicNames].filter((topic) => existing.has(topic)),
    CONCURRENCY,
    async (topic) => {
      const offsets = await admin.fetchTopicOffsets(topic)
      topics.set(topic, {
        partitions: new Map(
          offsets.map((entry) => [entry.partition, { low: Number(entry.low), high: Number(entry.high) }]),
        ),
      })
    },
  )
  return { at, groups, topics }
}
