import type { BatchHandler, ConsumedMessage, ConsumerDefinition } from './consumer.ts'
import type { TopicKey, TopicSet } from './topics.ts'
import type { TopicValue } from './types.ts'

/**
 * A consumer's subscriptions and handler from one handler per topic declaration: each
 * handler is typed by its topic's Avro value, and a chunk (always one partition of one
 * topic) goes to the handler of its topic. Replaces comparing topic names and casting.
 */
export type TopicHandlers = { readonly [K in TopicKey]?: BatchHandler<TopicValue<K>> }

export function handleByTopic(
  topics: TopicSet,
  handlers: TopicHandlers,
): Pick<ConsumerDefinition<TopicValue<TopicKey>>, 'topics' | 'handle'> {
  const byName = new Map<string, BatchHandler<TopicValue<TopicKey>>>()
  for (const [key, handler] of Object.entries(handlers) as [TopicKey, BatchHandler<never>][]) {
    byName.set(topics[key].name, handler as BatchHandler<TopicValue<TopicKey>>)
  }
  return {
    topics: [...byName.keys()],
    handle: async (messages: readonly ConsumedMessage<TopicValue<TopicKey>>[], context) => {
      const topic = messages[0]?.topic
      if (topic === undefined) return
      const handler = byName.get(topic)
      // The runner subscribes to exactly these topics; anything else is a wiring bug.
      if (!handler) throw new Error(`no handler for ${topic}`)
      await handler(messages, context)
    },
  }
}
