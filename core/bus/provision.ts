import kafkajs, { type Admin } from 'kafkajs'
import type { Config } from '../config/env.ts'
import type { Logger } from '../logging/logger.ts'
import { type TopicDeclaration, topicConfigs } from './topics.ts'

// kafkajs is CommonJS and its enums are not visible to ESM named-import detection.
const { ConfigResourceTypes } = kafkajs

export interface ProvisionReport {
  created: string[]
  reconfigured: string[]
  repartitioned: string[]
  unchanged: string[]
}

/**
 * Makes the cluster match the topic declaration: creates missing topics, sets drifted
 * configs back, and adds partitions when the declaration asks for more (Kafka cannot take
 * partitions away; that is reported, not attempted). Safe to run any number of times.
 */
export async function provisionTopics(
  admin: Admin,
  topics: readonly TopicDeclaration[],
  settings: Config['topics'],
  logger: Logger,
): Promise<ProvisionReport> {
  const report: ProvisionReport = { created: [], reconfigured: [], repartitioned: [], unchanged: [] }
  const existing = new Set(await admin.listTopics())
  const missing = topics.filter((topic) => !existing.has(topic.name))
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: settings.partitions,
        replicationFactor: settings.replication,
        configEntries: Object.entries(topicConfigs(topic, settings.minInsyncReplicas)).map(
          ([name, value]) => ({ name, value }),
        ),
      })),
    })
    report.created.push(...missing.map((topic) => topic.name))
  }

  const present = topics.filter((topic) => existing.has(topic.name))
  if (present.length === 0) return report

  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: present.map((topic) => ({
      type: ConfigResourceTypes.TOPIC,
      name: topic.name,
      configNames: Object.keys(topicConfigs(topic, settings.minInsyncReplicas)),
    })),
  })
  const drifted = present.filter((topic) => {
    const resource = described.resources.find((entry) => entry.resourceName === topic.name)
    const actual = new Map(
      resource?.configEntries.map((entry) => [entry.configName, entry.configValue]) ?? [],
    )
    return Object.entries(topicConfigs(topic, settings.minInsyncReplicas)).some(
      ([name, value]) => actual.get(name) !== value,
    )
  })
  if (drifted.length > 0) {
    await admin.alterConfigs({
      validateOnly: false,
      resources: drifted.map((topic) => ({
        type: ConfigResourceTypes.TOPIC,
        name: topic.name,
        configEntries: Object.entries(topicConfigs(topic, settings.minInsyncReplicas)).map(
          ([name, value]) => ({ name, value }),
        ),
      })),
    })
    report.reconfigured.push(...drifted.map((topic) => topic.name))
  }

  const metadata = await admin.fetchTopicMetadata({ topics: present.map((topic) => topic.name) })
  const grow = metadata.topics.filter((topic) => topic.partitions.length < settings.partitions)
  if (grow.length > 0) {
    await admin.createPartitions({
      topicPartitions: grow.map((topic) => ({ topic: topic.name, count: settings.partitions })),
    })
    report.repartitioned.push(...grow.map((topic) => topic.name))
  }
  for (const topic of metadata.topics) {
    if (topic.partitions.length > settings.partitions) {
      logger.warn(
        { topic: topic.name, actual: topic.partitions.length, declared: settings.partitions },
        'topic has more partitions than declared; Kafka cannot remove partitions, leaving it',
      )
    }
  }
  const changed = new Set([...report.reconfigured, ...report.repartitioned])
  report.unchanged.push(...present.map((topic) => topic.name).filter((name) => !changed.has(name)))
  return report
}
