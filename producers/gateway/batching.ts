import type { BusProducer, OutgoingRecord } from '../../core/bus/producer.ts'

interface Pending {
  readonly topic: string
  readonly record: OutgoingRecord
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

/**
 * Publishes records from many concurrent requests in shared batches: while one batch is
 * with Kafka, the next one collects. The bus producer keeps one request in flight (for
 * ordering under retries), so without this every HTTP request would wait for all the ones
 * before it; with it, throughput scales with the batch size and latency stays about one
 * broker round trip.
 */
export function createBatchingPublisher(producer: BusProducer) {
  let queue: Pending[] = []
  let draining = false

  const drain = async () => {
    draining = true
    while (queue.length > 0) {
      const batch = queue
      queue = []
      const byTopic = new Map<string, OutgoingRecord[]>()
      for (const item of batch) {
        const records = byTopic.get(item.topic) ?? []
        records.push(item.record)
        byTopic.set(item.topic, records)
      }
      try {
        await producer.publishMany([...byTopic].map(([topic, records]) => ({ topic, records })))
        for (const item of batch) item.resolve()
      } catch (error) {
        for (const item of batch) item.reject(error)
      }
    }
    draining = false
  }

  return {
    /** Resolves once Kafka acknowledged the record (acks=all); rejects when the publish failed. */
    publish(topic: string, record: OutgoingRecord): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        queue.push({ topic, record, resolve, reject })
        if (!draining) void drain()
      })
    },
    get pending() {
      return queue.length
    },
  }
}

export type BatchingPublisher = ReturnType<typeof createBatchingPublisher>
