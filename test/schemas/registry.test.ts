import avro from 'avsc'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createAvroCodec, valueSubject } from '../../core/bus/codec.ts'
import { IncompatibleSchemaError } from '../../core/bus/schema-registry.ts'
import { namespacedTopics, TOPICS } from '../../core/bus/topics.ts'
import { staleGeneratedTypes } from '../../schemas/codegen.ts'
import { loadAllTopicSchemas } from '../../schemas/load.ts'
import { openTestBus, randomNamespace, type TestBus } from '../support/harness.ts'

let testBus: TestBus

beforeAll(async () => {
  testBus = await openTestBus()
})

afterAll(async () => {
  await testBus?.close()
})

async function registry(route: string, init?: RequestInit) {
  const response = await fetch(`${testBus.common.config.schemaRegistry.url}${route}`, init)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('schemas in the registry', () => {
  test('behavior: every topic has key and value schemas under the topic-name strategy, FULL_TRANSITIVE', async () => {
    for (const topic of testBus.bus.allTopics) {
      for (const subject of [`${topic.name}-key`, `${topic.name}-value`]) {
        const latest = await registry(`/subjects/${subject}/versions/latest`)
        expect(latest.status).toBe(200)
        const config = await registry(`/config/${subject}`)
        expect(config.body.compatibilityLevel).toBe('FULL_TRANSITIVE')
      }
    }
    expect(testBus.bus.allTopics).toHaveLength(Object.keys(TOPICS).length)
  })

  test('behavior: registering again is idempotent (same ids, no new versions)', async () => {
    const again = await testBus.bus.codec.registerAll()
    const versions = await registry(`/subjects/${valueSubject(testBus.bus.topics.command.name)}/versions`)
    expect(versions.body).toEqual([1])
    expect(again.size).toBe(Object.keys(TOPICS).length)
  })

  test('error: the registry refuses an incompatible change, and accepts a compatible one', async () => {
    const topics = namespacedTopics(testBus.namespace)
    const subject = valueSubject(topics.nullifier.name)
    const original = loadAllTopicSchemas().get(TOPICS.nullifier.valueSchemaFile) as {
      fields: { name: string }[]
    }
    const post = (schema: unknown) =>
      registry(`/subjects/${subject}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: JSON.stringify(schema) }),
      })

    // A new required field without a default breaks readers of old data (not backward).
    const incompatible = { ...original, fields: [...original.fields, { name: 'chainFee', type: 'long' }] }
    expect((await post(incompatible)).status).toBe(409)
    // Through our codec the refusal is a clear, non-retryable error.
    const codec = createAvroCodec({
      registryConfig: testBus.common.config.schemaRegistry,
      topics: [topics.nullifier],
    })
    await codec.registerAll()
    const versionsBefore = await registry(`/subjects/${subject}/versions`)

    // An optional field with a default is compatible both ways.
    const compatible = {
      ...original,
      fields: [...original.fields, { name: 'note', type: ['null', 'string'], default: null }],
    }
    const accepted = await post(compatible)
    expect(accepted.status).toBe(200)
    const versionsAfter = await registry(`/subjects/${subject}/versions`)
    expect((versionsAfter.body as unknown as number[]).length).toBe(
      (versionsBefore.body as unknown as number[]).length + 1,
    )

    // Removing a field without a default is refused too (not forward compatible).
    const removed = { ...original, fields: original.fields.filter((field) => field.name !== 'scope') }
    const refused = await post(removed)
    expect(refused.status).toBe(409)
  })

  test('error: our codec reports a refused registration as IncompatibleSchemaError', async () => {
    // A subject that already holds an unrelated schema; ours is incompatible with it.
    const topics = namespacedTopics(randomNamespace())
    const subject = valueSubject(topics.alert.name)
    const foreign = {
      type: 'record',
      name: 'Alert',
      namespace: 'io.veridis.alert',
      fields: [{ name: 'alertId', type: 'long' }],
    }
    const response = await fetch(`${testBus.common.config.schemaRegistry.url}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(foreign) }),
    })
    expect(response.status).toBe(200)
    const codec = createAvroCodec({
      registryConfig: testBus.common.config.schemaRegistry,
      topics: [topics.alert],
    })
    await expect(codec.registerAll()).rejects.toBeInstanceOf(IncompatibleSchemaError)
  })

  test('behavior: bundled schemas are self-contained and the generated types are current', () => {
    for (const [file, schema] of loadAllTopicSchemas()) {
      expect(() => avro.Type.forSchema(schema as avro.Schema), file).not.toThrow()
      expect(JSON.stringify(schema)).not.toMatch(/"type":"io\.veridis\.ChainEventEnvelope"/)
    }
    expect(staleGeneratedTypes()).toEqual([])
  })
})
