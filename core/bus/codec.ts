import avro from 'avsc'
import { type AvroSchema, KEY_SCHEMA, loadSharedTypes, loadTopicSchema } from '../../schemas/load.ts'
import type { Config } from '../config/env.ts'
import { isTransient, NonRetryableError, RetryableError } from '../errors.ts'
import { createSchemaRegistryClient, SchemaRegistryRequestError } from './schema-registry.ts'
import type { TopicDeclaration } from './topics.ts'
import { findIllFormedUnicode, isWellFormedUnicode } from './well-formed.ts'
import { createWireWriter, UndecodableMessageError, unframe } from './wire-format.ts'

/**
 * Avro records of the declared topics in the Confluent wire format (wire-format.ts), with
 * schemas held by the schema registry (schema-registry.ts) under the topic-name strategy.
 * Encoding and decoding use avsc types built once; the registry is asked only for ids and
 * for writer schemas it has not seen yet.
 */
const COMPATIBILITY = 'FULL_TRANSITIVE'

export const valueSubject = (topic: string) => `${topic}-value`
export const keySubject = (topic: string) => `${topic}-key`

export class SchemaMismatchError extends NonRetryableError {
  override name = 'SchemaMismatchError'
}

/** avsc would write a lone surrogate as bytes no UTF-8 decoder accepts (core/bus/well-formed.ts). */
const illFormed = (topic: string, path: string) =>
  new SchemaMismatchError(
    `ill-formed Unicode (a lone surrogate) in ${path} for ${topic}: not encodable as UTF-8`,
    {
      details: { topic, path },
    },
  )

type Resolver = ReturnType<avro.Type['createResolver']>

interface TopicCodec {
  readonly declaration: TopicDeclaration
  readonly schema: AvroSchema
  readonly type: avro.Type
  keyId?: number
  valueId?: number
  readonly resolvers: Map<number, Resolver | null>
}

export function createAvroCodec(options: {
  registryConfig: Config['schemaRegistry']
  topics: readonly TopicDeclaration[]
}) {
  const registry = createSchemaRegistryClient(options.registryConfig)
  const writeWire = createWireWriter()
  const shared = loadSharedTypes()
  const keyType = avro.Type.forSchema(KEY_SCHEMA as avro.Schema)
  const codecs = new Map<string, TopicCodec>()
  for (const declaration of options.topics) {
    const schema = loadTopicSchema(declaration.valueSchemaFile, shared)
    codecs.set(declaration.name, {
      declaration,
      schema,
      type: avro.Type.forSchema(schema as avro.Schema),
      resolvers: new Map(),
    })
  }

  const codecFor = (topic: string): TopicCodec => {
    const codec = codecs.get(topic)
    if (!codec) throw new NonRetryableError(`topic '${topic}' is not declared for this codec`)
    return codec
  }

  // One fetch per writer schema id, shared by every message that carries it; a failed
  // fetch is forgotten so the next message asks again.
  const writerTypes = new Map<number, Promise<avro.Type>>()
  const fetchWriterType = async (id: number): Promise<avro.Type> => {
    let schema: string
    try {
      schema = await registry.schemaById(id)
    } catch (cause) {
      // Wait only for what can come back: the registry unreachable, overloaded or failing.
      // Anything else (an unknown id, a refused request) will not change, and the message
      // is dead-lettered instead of stopping the partition.
      if (isTransient(cause))
        throw new RetryableError(`could not fetch schema id ${id} from the registry`, { cause })
      const unknown = cause instanceof SchemaRegistryRequestError && cause.status === 404
      throw new UndecodableMessageError(
        unknown ? `schema id ${id} is unknown to the registry` : `schema id ${id} cannot be used to decode`,
        { cause },
      )
    }
    try {
      return avro.Type.forSchema(JSON.parse(schema) as avro.Schema)
    } catch (cause) {
      throw new UndecodableMessageError(`schema id ${id} cannot be used to decode`, { cause })
    }
  }
  const writerType = (id: number): Promise<avro.Type> => {
    let type = writerTypes.get(id)
    if (!type) {
      type = fetchWriterType(id)
      writerTypes.set(id, type)
      type.catch(() => writerTypes.delete(id))
    }
    return type
  }

  return {
    /**
     * Registers key and value schemas of every topic under `<topic>-key` / `<topic>-value`
     * with FULL_TRANSITIVE compatibility. Idempotent; an incompatible change is refused by
     * the registry and surfaces here as an IncompatibleSchemaError.
     */
    async registerAll(): Promise<Map<string, { keyId: number; valueId: number }>> {
      const result = new Map<string, { keyId: number; valueId: number }>()
      for (const codec of codecs.values()) {
        const topic = codec.declaration.name
        await registry.setCompatibility(keySubject(topic), COMPATIBILITY)
        await registry.setCompatibility(valueSubject(topic), COMPATIBILITY)
        const keyId = await registry.register(keySubject(topic), KEY_SCHEMA)
        const valueId = await registry.register(valueSubject(topic), codec.schema)
        codec.keyId = keyId
        codec.valueId = valueId
        result.set(topic, { keyId, valueId })
      }
      return result
    },

    /**
     * Looks up the ids of exactly the schemas this build was made with. Producers call it
     * at start-up instead of registering: a schema that was never registered fails here,
     * clearly, rather than on the first message.
     */
    async resolveIds(topics: readonly string[] = [...codecs.keys()]): Promise<void> {
      for (const topic of topics) {
        const codec = codecFor(topic)
        if (codec.keyId !== undefined && codec.valueId !== undefined) continue
        try {
          codec.keyId = await registry.idOf(keySubject(topic), KEY_SCHEMA)
          codec.valueId = await registry.idOf(valueSubject(topic), codec.schema)
        } catch (cause) {
          throw new RetryableError(`schemas of topic ${topic} are not registered (run \`veridis topics\`)`, {
            cause,
          })
        }
      }
    },

    encodeKey(topic: string, key: string): Buffer {
      const codec = codecFor(topic)
      if (codec.keyId === undefined) throw new NonRetryableError(`key schema id of ${topic} is not resolved`)
      if (!isWellFormedUnicode(key)) throw illFormed(topic, 'key')
      return writeWire(codec.keyId, keyType, key)
    },

    encodeValue(topic: string, value: unknown): Buffer {
      const codec = codecFor(topic)
      if (codec.valueId === undefined)
        throw new NonRetryableError(`value schema id of ${topic} is not resolved`)
      const illFormedAt = findIllFormedUnicode(value, 'value')
      if (illFormedAt) throw illFormed(topic, illFormedAt)
      try {
        return writeWire(codec.valueId, codec.type, value)
      } catch (cause) {
        // Only a failing value pays for the second walk that names the offending fields.
        const paths: string[] = []
        codec.type.isValid(value, { errorHook: (path) => paths.push(path.join('.') || '<root>') })
        throw new SchemaMismatchError(
          `value for ${topic} does not match its schema at ${paths.slice(0, 5).join(', ') || '<unknown>'}`,
          {
            cause,
            details: { topic, paths: paths.join(',') },
          },
        )
      }
    },

    async decodeKey(buffer: Buffer | null): Promise<string | null> {
      if (buffer === null) return null
      const { schemaId: id, body } = unframe(buffer, 'key')
      const type = await writerType(id)
      try {
        return String(type.fromBuffer(body))
      } catch (cause) {
        throw new UndecodableMessageError(`key body does not match schema id ${id}`, { cause })
      }
    },

    /** Decodes with the writer's schema resolved into this build's reader schema. */
    async decodeValue(topic: string, buffer: Buffer | null): Promise<unknown> {
      const codec = codecFor(topic)
      const { schemaId: id, body } = unframe(buffer, 'value')
      let resolver = codec.resolvers.get(id)
      if (resolver === undefined) {
        const writer = await writerType(id)
        try {
          resolver = writer.equals(codec.type) ? null : codec.type.createResolver(writer)
        } catch (cause) {
          throw new UndecodableMessageError(`writer schema id ${id} cannot be read as ${codec.type.name}`, {
            cause,
          })
        }
        codec.resolvers.set(id, resolver)
      }
      try {
        return resolver ? codec.type.fromBuffer(body, resolver) : codec.type.fromBuffer(body)
      } catch (cause) {
        throw new UndecodableMessageError(`value body does not match schema id ${id}`, { cause })
      }
    },
  }
}

export type AvroCodec = ReturnType<typeof createAvroCodec>
