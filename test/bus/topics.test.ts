import kafkajs from 'kafkajs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { provisionTopics } from '../../core/bus/provision.ts'
import { openTestBus, type TestBus } from '../support/harness.ts'

const { ConfigResourceTypes } = kafkajs
let testBus: TestBus

beforeAll(async () => {
  testBus = await openTestBus()
})

afterAll(async () => {
  await testBus?.close()
})

async function topicConfig(topic: string): Promise<Record<string, string>> {
  const admin = testBus.bus.kafka.admin()
  await admin.connect()
  try {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    })
    return Object.fromEntries(
      described.resources[0]!.configEntries.map((entry) => [entry.configName, entry.configValue]),
    )
  } finally {
    await admin.disconnect()
  }
}

describe('topic provisioning', () => {
  test('behavior: the audit topic never expires and is never compacted; the others follow DESIGN §3', async () => {
    const audit = await topicConfig(testBus.bus.topics.audit.name)
    expect(audit['retention.ms']).toBe('-1')
    expect(audit['retention.bytes']).toBe('-1')
    expect(audit['cleanup.policy']).toBe('delete')
    const commands = await topicConfig(testBus.bus.topics.command.name)
    expect(commands['retention.ms']).toBe(String(7 * 24 * 3600 * 1000))
    const alerts = await topicConfig(testBus.bus.topics.alert.name)
    expect(alerts['retention.ms']).toBe(String(90 * 24 * 3600 * 1000))
  })

  test('behavior: provisioning again changes nothing, and repairs drift when there is some', async () => {
    const admin = testBus.bus.kafka.admin()
    await admin.connect()
    try {
      const settings = testBus.common.config.topics
      const again = await provisionTopics(admin, testBus.bus.allTopics, settings, testBus.common.logger)
      expect(again.created).toEqual([])
      expect(again.reconfigured).toEqual([])
      expect(again.unchanged).toHaveLength(testBus.bus.allTopics.length)

      // Someone makes the audit trail expire: the declaration puts it back.
      const audit = testBus.bus.topics.audit.name
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: audit,
            configEntries: [{ name: 'retention.ms', value: '3600000' }],
          },
        ],
      })
      expect((await topicConfig(audit))['retention.ms']).toBe('3600000')
      const repaired = await provisionTopics(admin, testBus.bus.allTopics, settings, testBus.common.logger)
      expect(repaired.reconfigured).toEqual([audit])
      expect((await topicConfig(audit))['retention.ms']).toBe('-1')

      // More partitions declared: they are added.
      const grown = await provisionTopics(
        admin,
        [testBus.bus.topics.proof],
        { ...settings, partitions: settings.partitions + 2 },
        testBus.common.logger,
      )
      expect(grown.repartitioned).toEqual([testBus.bus.topics.proof.name])
      const metadata = await admin.fetchTopicMetadata({ topics: [testBus.bus.topics.proof.name] })
      expect(metadata.topics[0]!.partitions).toHaveLength(settings.partitions + 2)
    } finally {
      await admin.disconnect()
    }
  })
})
