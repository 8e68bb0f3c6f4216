import type { BusProducer, OutgoingRecord } from '../../core/bus/producer.ts'

/** The part of the bus producer a batching publisher uses. */
export type PublishMany = BusProducer['publishMany']

interface Pending {
  readonly topic: string
  readonly record: OutgoingRecord
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
  /** Handed to the producer: from here on it can no longer be withdrawn. */
  taken: boolean
  /** Withdrawn by its caller before it was taken: left out of every batch. */
  withdrawn: boolean
}

/**
 * Lets several batching publishers share one bus producer one request at a time, as the
 * producer expects (it replaces its Kafka producer after a failed request, which would
 * break a concurrent one). Each caller still gets only its own request's outcome.
 */
export function serialPublishes(publishMany: PublishMany): PublishMany {
  let tail: Promise<unknown> = Promise.resolve()
  return (batches) => {
    const result = tail.then(() => publishMany(batches))
    tail = result.catch(() => undefined)
    return result
  }
}

/**
 * Publishes records from many concurrent requests in shared batches: while one batch is
 * with Kafka, the next one collects. The bus producer keeps one request in flight (for
 * ordering under retries), so without this every HTTP request would wait for all the ones
 * before it; with it, throughput scales with the batch size and latency stays about one
 * broker round trip. A batch has one outcome for all its records, so the gateway keeps one
 * publisher per topic: commands never share a fate with audit facts.
 */
export function createBatchingPublisher(publishMany: PublishMany) {
  let queue: Pending[] = []
  let draining = false

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.filter((item) => !item.withdrawn)
      queue = []
      if (batch.length === 0) continue
      const byTopic = new Map<string, OutgoingRecord[]>()
      for (const item of batch) {
        item.taken = true
        const records = byTopic.get(item.topic) ?? []
        records.push(item.record)
        byTopic.set(item.topic, records)
      }
      try {
        await publishMany([...byTopic].map(([topic, records]) => ({ topic, records })))
        for (const item of batch) item.resolve()
      } catch (error) {
        for (const item of batch) item.reject(error)
      }
    }
    draining = false
  }

  const enqueue = (topic: string, record: OutgoingRecord) => {
    let item!: Pending
    const sent = new Promise<void>((resolve, reject) => {
      item = { topic, record, resolve, reject, taken: false, withdrawn: false }
    })
    queue.push(item)
    // Started on the next microtask, so records published in the same tick (a caller
    // publishing many at once) go to Kafka as one batch rather than one and the rest.
    if (!draining) {
      draining = true
      queueMicrotask(() => void drain())
    }
    return { item, sent }
  }

  return {
    /** Resolves once Kafka acknowledged the record (acks=all); rejects when the publish failed. */
    publish(topic: string, record: OutgoingRecord): Promise<void> {
      return enqueue(topic, record).sent
    },
    /**
     * `publish`, and a way to take the record back: `withdraw(reason)` while it still waits for
     * a batch rejects `sent` with the reason and the record is never published; once handed to
     * the producer it can no longer be withdrawn (`withdraw` does nothing) and may still be
     * written. A flag and a callback, not an AbortSignal: the gateway makes one per request, and
     * an AbortController with its listener cost 3 % of the gateway's CPU.
     */
    publishWithdrawable(topic: string, record: OutgoingRecord) {
      const { item, sent } = enqueue(topic, record)
      return {
        sent,
        withdraw(reason: unknown) {
          if (item.taken || item.withdrawn) return
          item.withdrawn = true
          item.reject(reason)
        },
      }
    },
    /** Records waiting for a batch (not counting withdrawn ones). */
    get pending() {
      return queue.filter((item) => !item.withdrawn).length
    },
  }
}

export type BatchingPublisher = ReturnType<typeof createBatchingPublisher>
