import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/**
 * One prom-client registry per process, with the bus's own instruments. Components add
 * theirs to `registry`; `/metrics` serves it.
 */
export function createMetrics(service: string) {
  const registry = new Registry()
  registry.setDefaultLabels({ service })
  collectDefaultMetrics({ register: registry })

  const bus = {
    messagesConsumed: new Counter({
      name: 'veridis_bus_messages_consumed_total',
      help: 'Messages a consumer group finished with (handled, skipped as duplicates or dead-lettered), by topic.',
      labelNames: ['group', 'topic', 'outcome'] as const,
      registers: [registry],
    }),
    messagesProduced: new Counter({
      name: 'veridis_bus_messages_produced_total',
      help: 'Messages acknowledged by Kafka (acks=all), by topic.',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    produceErrors: new Counter({
      name: 'veridis_bus_produce_errors_total',
      help: 'Publish calls that failed after the client retries, by topic.',
      labelNames: ['topic'] as const,
      registers: [registry],
    }),
    handlerDuration: new Histogram({
      name: 'veridis_bus_handler_duration_seconds',
      help: 'Time a consumer spent handling one chunk of a batch, including its database transaction.',
      labelNames: ['group', 'topic'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'veridis_bus_retries_total',
      help: 'Handler attempts that failed and were retried, by kind (transient failures retry without limit).',
      labelNames: ['group', 'topic', 'kind'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'veridis_bus_dead_letters_total',
      help: 'Messages sent to the dead-letter topic, by reason.',
      labelNames: ['group', 'topic', 'reason'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'veridis_bus_batch_size',
      help: 'Messages per batch fetched from Kafka.',
      labelNames: ['group'] as const,
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [registry],
    }),
    duplicatesSkipped: new Counter({
      name: 'veridis_bus_duplicates_skipped_total',
      help: 'Messages whose effect was already applied: redeliveries and repeats (exactly-once guard; for the ledger, any message that moves no fact forward).',
      labelNames: ['group'] as const,
      registers: [registry],
    }),
    consumerReady: new Gauge({
      name: 'veridis_bus_consumer_ready',
      help: '1 while the consumer group member is connected and has joined its group.',
      labelNames: ['group'] as const,
      registers: [registry],
    }),
  }
  return { service, registry, bus }
}

/** The label naming one process among several of a service (labelInstance). */
const INSTANCE_LABEL = 'instance_id'

/**
 * Adds `instance_id` to every series of this process, so several instances behind one scrape
 * target (a balancer, one pod address) stay apart. Not `instance`: Prometheus sets that label
 * from the scrape target and renames an exposed one to `exported_instance` (or, with
 * honor_labels, lets it replace the target's, which the alert rules quote). Opt-in per process
 * (the gateway): every other series keeps exactly the labels it has.
 */
export function labelInstance(metrics: Metrics, instanceId: string) {
  metrics.registry.setDefaultLabels({ service: metrics.service, [INSTANCE_LABEL]: instanceId })
}

export type Metrics = ReturnType<typeof createMetrics>
