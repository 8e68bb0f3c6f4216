import { createBusProducer } from '../../core/bus/producer.ts'
import { sleep } from '../../core/bus/retry.ts'
import { chainMetrics } from '../../core/metrics/protocol.ts'
import { createChainFollower } from '../../producers/chains/common/engine.ts'
import type { ChainFamilyModule } from '../../producers/chains/common/family.ts'
import { createChainEventPublisher } from '../../producers/chains/common/publisher.ts'
import type { FollowSettings } from '../../producers/chains/common/source.ts'
import { createCursorStore } from '../../producers/chains/common/store/cursor-store.ts'
import { createListenerStateWriter } from '../../producers/chains/common/store/listener-state.ts'
import type { TestBus } from '../../test/support/harness.ts'

/** One family's range to catch up, as the throughput half of its bench measures it. */
export interface CatchUpRange<Config extends FollowSettings & { readonly chain: string }> {
  readonly family: ChainFamilyModule<Config>
  /** The chain's configuration, its startBlock the range's first block. */
  readonly config: Config
  readonly lastBlock: number
  /** Events in the range: a run that publishes fewer fails rather than looking fast. */
  readonly events: number
}

/**
 * Times a fresh in-process listener engine with a cursor of its own (`label`) catching the
 * range up — RPC → normalise → Avro → Kafka (acks=all) → cursor committed — from its first
 * block until the cursor passes the last. The producer connects before the clock starts.
 */
export async function timeCatchUp<Config extends FollowSettings & { readonly chain: string }>(
  testBus: TestBus,
  range: CatchUpRange<Config>,
  label: string,
): Promise<number> {
  const { common, bus, pool } = testBus
  const producer = createBusProducer(common, {
    kafka: bus.kafka,
    codec: bus.codec,
    producerName: `bench-${range.family.family}-${label}`,
    topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
  })
  await producer.connect()
  const publisher = createChainEventPublisher({ bus, producer })
  const store = createCursorStore(pool, `${testBus.namespace}-${label}`)
  const source = range.family.createSource(range.config, { logger: common.logger, onRpcError: () => {} })
  let published = 0
  const follower = createChainFollower({
    common,
    source,
    settings: range.config,
    store,
    state: createListenerStateWriter(pool),
    metrics: chainMetrics(common.metrics.registry),
    publish: async (batch) => {
      await publisher.publish(batch)
      published += batch.length
    },
  })
  const controller = new AbortController()
  try {
    const started = performance.now()
    const loop = follower.run(controller.signal)
    while (((await store.cursor(range.config.chain))?.cursorBlock ?? -1) < range.lastBlock) await sleep(2)
    const elapsed = performance.now() - started
    controller.abort()
    await loop
    if (published < range.events) {
      throw new Error(`bench: ${label} published ${published} of ${range.events} events`)
    }
    return elapsed
  } finally {
    controller.abort() // the engine destroys the source when its run ends
    await store.clear(range.config.chain)
    await producer.disconnect()
  }
}
