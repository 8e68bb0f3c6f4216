/**
 * Cost of one lag-monitor poll with many groups, next to the bare kafkajs admin calls the
 * poll is made of, in the same run:
 *
 *   bin/veridis bench lag [--groups 50] [--partitions 64] [--rounds 15]
 *
 * Setup: one topic with `partitions` partitions holding a few messages each, and `groups`
 * consumer groups with committed offsets on every partition (set through the admin API).
 * Each round times (a) the admin calls alone — listGroups, describeGroups, fetchOffsets
 * per group, listTopics, fetchTopicOffsets — and (b) a full poll: the same calls plus
 * interpolation, Burrow evaluation, gauges and the JSON view. Medians are reported.
 */
import { Registry } from 'prom-client'
import { createLagState } from '../monitor/lag/monitor.ts'
import { pollCluster } from '../monitor/lag/poll.ts'
import { openTestBus, randomNamespace } from '../test/support/harness.ts'
import { median } from './stats.ts'

export async function benchLagMonitor(options: { groups: number; partitions: number; rounds: number }) {
  const testBus = await openTestBus(randomNamespace('lagbench'), { VERIDIS_LOG_LEVEL: 'error' })
  const admin = testBus.bus.kafka.admin()
  await admin.connect()
  const topic = `${testBus.namespace}.bench.lag`
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: options.partitions, replicationFactor: 1 }],
    })
    const producer = testBus.bus.kafka.producer()
    await producer.connect()
    await producer.send({
      topic,
      messages: Array.from({ length: options.partitions * 10 }, (_, index) => ({
        partition: index % options.partitions,
        value: Buffer.from(`message ${index}`),
      })),
    })
    await producer.disconnect()
    const groupIds = Array.from(
      { length: options.groups },
      (_, index) => `${testBus.namespace}.group-${index}`,
    )
    // setOffsets joins each group briefly (seconds apiece): do ten at a time.
    for (let start = 0; start < groupIds.length; start += 10) {
      await Promise.all(
        groupIds.slice(start, start + 10).map((groupId, offset) =>
          admin.setOffsets({
            groupId,
            topic,
            partitions: Array.from({ length: options.partitions }, (_, partition) => ({
              partition,
              offset: String((start + offset + partition) % 10),
            })),
          }),
        ),
      )
    }

    const filter = new RegExp(`^${testBus.namespace}\\.`)
    const state = createLagState({
      registry: new Registry(),
      window: 10,
      pollIntervalMs: 5_000,
      dlqTopic: testBus.bus.topics.deadLetter.name,
    })
    const bare: number[] = []
    const full: number[] = []
    let partitionsSeen = 0
    for (let round = 0; round < options.rounds; round++) {
      let started = performance.now()
      const listed = await admin.listGroups()
      const ids = listed.groups.map((group) => group.groupId).filter((id) => filter.test(id))
      await admin.describeGroups(ids)
      await Promise.all(ids.map((groupId) => admin.fetchOffsets({ groupId })))
      await admin.listTopics()
      await admin.fetchTopicOffsets(topic)
      bare.push(performance.now() - started)

      started = performance.now()
      const view = state.update(
        await pollCluster(admin, { groupFilter: filter, extraTopics: [testBus.bus.topics.deadLetter.name] }),
      )
      full.push(performance.now() - started)
      partitionsSeen = view.groups.reduce((sum, group) => sum + group.partitions.length, 0)
    }
    return { bareMs: median(bare), fullMs: median(full), partitionsSeen, ...options }
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
    await admin.disconnect()
    await testBus.close()
  }
}

export function printLagBench(result: Awaited<ReturnType<typeof benchLagMonitor>>) {
  process.stdout.write(
    `\nlag monitor bench: ${result.groups} groups × ${result.partitions} partitions (${result.partitionsSeen} group-partitions), median of ${result.rounds} rounds\n`,
  )
  process.stdout.write(
    `bare kafkajs admin calls        ${result.bareMs.toFixed(1).padStart(8)} ms per poll\n`,
  )
  process.stdout.write(
    `full monitor poll               ${result.fullMs.toFixed(1).padStart(8)} ms per poll\n`,
  )
  process.stdout.write(
    `monitor / bare: ${(result.fullMs / result.bareMs).toFixed(2)}×  (evaluation, gauges and view add ${(result.fullMs - result.bareMs).toFixed(1)} ms)\n`,
  )
}
