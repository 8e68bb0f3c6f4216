import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import avro from 'avsc'
import { type AvroSchema, KEY_SCHEMA, loadSharedTypes, loadTopicSchema } from '../../schemas/load.ts'
import type { Config } from '../config/env.ts'
import { isTransient, NonRetryableError, RetryableError } from '../errors.ts'
import type { TopicDeclaration } from './topics.ts'
import { findIllFormedUnicode, isWellFormedUnicode } from './well-formed.ts'

/**
 * Avro in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro
 * body), with schemas held by a Confluent-compatible registry under the topic-name
 * strategy. Encoding and decoding use avsc types built once; the registry is asked only
 * for ids and for writer schemas it has not seen yet.
 */
export const COMPATIBILITY = 'FULL_TRANSITIVE'
const MAGIC_BYTE = 0
const HEADER_BYTES = 5

export const valueSubject = (topic: string) => `${topic}-value`
export const keySubject = (topic: string) => `${topic}-key`

export class UndecodableMessageError extends NonRetryableError {
  override name = 'UndecodableMessageError'
}

export class IncompatibleSchemaError extends NonRetryableError {
  override name = 'IncompatibleSchemaError'
}

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

export function createSchemaRegistryClient(config: Config['schemaRegistry']): SchemaRegistry {
  return new SchemaRegistry({
    host: config.url,
    clientId: 'veridis',
    ...(config.auth ? { auth: config.auth } : {}),
    retry: { retries: 3, initialRetryTimeInSecs: 0.2 },
  })
}

export function createAvroCodec(options: {
  registryConfig: Config['schemaRegistry']
  topics: readonly TopicDeclaration[]
}) {
  const registry = createSchemaRegistryClient(options.registryConfig)
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

  /** A call to the registry's Confluent REST API. */
  const registryRequest = async (method: string, route: string, body: unknown): Promise<Response> => {
    const headers: Record<string, string> = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
    const auth = options.registryConfig.auth
    if (auth)
      headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
    try {
      return await fetch(`${options.registryConfig.url}${route}`, {
        method,
        headers,
        body: JSON.stringify(body),
      })
    } catch (cause) {
      throw new RetryableError('schema registry is unreachable', {
        cause,
        details: { url: options.registryConfig.url },
      })
    }
  }

  const putCompatibility = async (subject: string) => {
    const response = await registryRequest('PUT', `/config/${encodeURIComponent(subject)}`, {
      compatibility: COMPATIBILITY,
    })
    if (!response.ok) {
      throw new RetryableError(`schema registry refused compatibility ${COMPATIBILITY} for ${subject}`, {
        details: { status: response.status, body: (await response.text()).slice(0, 500) },
      })
    }
  }

  /**
   * Registers through the REST API directly: the client library only registers named
   * types, and keys are a bare "string".
   */
  const register = async (subject: string, schema: AvroSchema): Promise<number> => {
    const response = await registryRequest('POST', `/subjects/${encodeURIComponent(subject)}/versions`, {
      schema: JSON.stringify(schema),
    })
    const text = await response.text()
    if (response.status === 409) {
      throw new IncompatibleSchemaError(
        `the registry refused the schema for ${subject} as incompatible (${COMPATIBILITY})`,
        {
          details: { subject, registry: text.slice(0, 500) },
        },
      )
    }
    if (!response.ok) {
      const error = { details: { subject, status: response.status, body: text.slice(0, 500) } }
      if (response.status >= 500)
        throw new RetryableError(`schema registry failed to register ${subject}`, error)
      throw new NonRetryableError(`schema registry rejected the schema for ${subject}`, error)
    }
    return (JSON.parse(text) as { id: number }).id
  }

  // Encoded records are written straight into a shared slab and handed out as views of
  // it: no per-record allocation or copy. A slab is dropped once full; the views keep it
  // alive only as long as the records are in use.
  const SLAB_BYTES = 1024 * 1024
  let slab = Buffer.allocUnsafe(SLAB_BYTES)
  let slabOffset = 0
  const encodeWire = (id: number, type: avro.Type, value: unknown): Buffer => {
    for (;;) {
      const start = slabOffset
      if (SLAB_BYTES - start > HEADER_BYTES) {
        slab.writeUInt8(MAGIC_BYTE, start)
        slab.writeInt32BE(id, start + 1)
        const end = type.encode(value, slab, start + HEADER_BYTES)
        if (end > 0) {
          slabOffset = end
          return slab.subarray(start, end)
        }
        if (start === 0) {
          // Larger than a whole slab: encode on its own.
          const body = type.toBuffer(value)
          const record = Buffer.allocUnsafe(HEADER_BYTES + body.length)
          record.writeUInt8(MAGIC_BYTE, 0)
          record.writeInt32BE(id, 1)
          body.copy(record, HEADER_BYTES)
          return record
        }
      }
      slab = Buffer.allocUnsafe(SLAB_BYTES)
      slabOffset = 0
    }
  }

  const splitWire = (buffer: Buffer | null, what: string): { id: number; body: Buffer } => {
    if (!buffer || buffer.length < HEADER_BYTES)
      throw new UndecodableMessageError(`${what} is empty or shorter than the wire-format header`)
    if (buffer.readUInt8(0) !== MAGIC_BYTE) {
      throw new UndecodableMessageError(
        `${what} does not start with the Confluent magic byte 0 (got ${buffer.readUInt8(0)})`,
      )
    }
    return { id: buffer.readInt32BE(1), body: buffer.subarray(HEADER_BYTES) }
  }

  const writerType = async (id: number): Promise<avro.Type> => {
    try {
      return (await registry.getSchema(id)) as unknown as avro.Type
    } catch (cause) {
      // Wait only for what can come back: the registry unreachable, overloaded or failing.
      // Anything else (an unknown id, a schema avsc cannot read, a non-Avro schema) will not
      // change, and the message is dead-lettered instead of stopping the partition.
      const status = (cause as { status?: number }).status
      const comesBack = status === undefined ? isTransient(cause) : status >= 500 || status === 429
      if (comesBack) throw new RetryableError(`could not fetch schema id ${id} from the registry`, { cause })
      throw new UndecodableMessageError(
        status === 404
          ? `schema id ${id} is unknown to the registry`
          : `schema id ${id} cannot be used to decode`,
        { cause },
      )
    }
  }

  return {
    registry,

    /**
     * Registers key and value schemas of every topic under `<topic>-key` / `<topic>-value`
     * with FULL_TRANSITIVE compatibility. Idempotent; an incompatible change is refused by
     * the registry and surfaces here as an error.
     */
    async registerAll(): Promise<Map<string, { keyId: number; valueId: number }>> {
      const result = new Map<string, { keyId: number; valueId: number }>()
      for (const codec of codecs.values()) {
        const topic = codec.declaration.name
        await putCompatibility(keySubject(topic))
        await putCompatibility(valueSubject(topic))
        const keyId = await register(keySubject(topic), KEY_SCHEMA)
        const valueId = await register(valueSubject(topic), codec.schema)
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
          codec.keyId = await registry.getRegistryIdBySchema(keySubject(topic), {
            type: 'AVRO' as never,
            schema: JSON.stringify(KEY_SCHEMA),
          })
          codec.valueId = await registry.getRegistryIdBySchema(valueSubject(topic), {
            type: 'AVRO' as never,
            schema: JSON.stringify(codec.schema),
          })
        } catch (cause) {
          throw new RetryableError(
            `schemas of topic ${topic} are not registered (run \`veridis schemas register\`)`,
            {
              cause,
            },
          )
        }
      }
    },

    encodeKey(topic: string, key: string): Buffer {
      const codec = codecFor(topic)
      if (codec.keyId === undefined) throw new NonRetryableError(`key schema id of ${topic} is not resolved`)
      if (!isWellFormedUnicode(key)) throw illFormed(topic, 'key')
      return encodeWire(codec.keyId, keyType, key)
    },

    encodeValue(topic: string, value: unknown): Buffer {
      const codec = codecFor(topic)
      if (codec.valueId === undefined)
        throw new NonRetryableError(`value schema id of ${topic} is not resolved`)
      const illFormedAt = findIllFormedUnicode(value, 'value')
      if (illFormedAt) throw illFormed(topic, illFormedAt)
      try {
        return encodeWire(codec.valueId, codec.type, value)
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
      const { id, body } = splitWire(buffer, 'key')
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
      const { id, body } = splitWire(buffer, 'value')
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
