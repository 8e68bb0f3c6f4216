import { randomBytes } from 'node:crypto'
import { connectBus } from '../../core/bus/connect.ts'
import { createCommon } from '../../core/context.ts'
import type { Alert } from '../../schemas/generated/veridis.alert.v1.ts'

/**
 * `veridis alerts`: the records on veridis.alert.v1, decoded, oldest first — every partition
 * up to its end offset at start, then (with --follow) whatever arrives. Reads with a throwaway
 * consumer group it deletes afterwards, so it never moves anyone's offsets.
 */
export async function printAlerts(options: { follow: boolean; json: boolean; detection?: string }) {
  const common = createCommon('cli')
  const bus = connectBus(common)
  const topic = bus.topics.alert.name
  const admin = bus.kafka.admin()
  await admin.connect()
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic)).map((partition) => [partition.partition, BigInt(partition.high)]),
  )
  const pending = new Set([...ends].filter(([, high]) => high > 0n).map(([partition]) => partition))
  const groupId = `veridis.cli-alerts-${randomBytes(4).toString('hex')}`
  const consumer = bus.kafka.consumer({ groupId })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  const print = (alert: Alert) => {
    if (options.detection && alert.detection !== options.detection) return
    if (options.json) {
      process.stdout.write(`${JSON.stringify(alert)}\n`)
      return
    }
    const when = new Date(alert.detectedAt).toISOString()
    process.stdout.write(
      `${when}  ${alert.severity.padEnd(8)} ${alert.status.padEnd(9)} ${(alert.detection || alert.kind).padEnd(24)} ×${alert.occurrences}  ${alert.alertId}\n    ${alert.summary}\n`,
    )
  }
  let finish: () => void = () => {}
  const caughtUp = new Promise<void>((resolve) => {
    finish = resolve
    if (pending.size === 0) resolve()
  })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      print((await bus.codec.decodeValue(topic, message.value)) as Alert)
      if (BigInt(message.offset) + 1n >= (ends.get(partition) ?? 0n)) {
        pending.delete(partition)
        if (pending.size === 0) finish()
      }
    },
  })
  if (!options.follow) {
    await caughtUp
    await consumer.disconnect()
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect()
    return
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await consumer.disconnect()
  await admin.deleteGroups([groupId]).catch(() => undefined)
  await admin.disconnect()
}
