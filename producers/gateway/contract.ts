import { TOPICS } from '../../core/bus/topics.ts'
import { type AvroSchema, loadTopicSchema } from '../../schemas/load.ts'
import type { FormatName } from './fields.ts'

/**
 * The HTTP contract of every command endpoint, derived from the Avro command schema
 * (schemas/topics/veridis.command.v1.avsc) so the two cannot drift: each branch of the
 * payload union becomes a JSON schema with the same fields, the same required fields (no
 * Avro default) and the same types. On top of that, OVERLAYS add what Avro cannot say
 * (field elements below the modulus, CAIP-2 ids, hex hashes, sizes). A test checks that
 * everything the JSON schema accepts, Avro accepts too.
 */

export type JsonSchema = { [key: string]: unknown }

export const COMMAND_NAMESPACE = 'io.veridis.command'

/** Record names of the payload union, e.g. ProveCommand. */
export type CommandRecordName =
  | 'ProveCommand'
  | 'VerifyCommand'
  | 'RegisterAttestationCommand'
  | 'PropagateNullifierCommand'
  | 'RequestErasureCommand'
  | 'AnalyzeBridgeCommand'
  | 'AnalyzeTransactionCommand'

// Bounds for what Avro leaves unbounded, so no single field can carry a huge value.
const MAX_STRING = 1_024
const MAX_ITEMS = 256
const MAX_MAP_ENTRIES = 64

const format = (name: FormatName): JsonSchema => ({ format: name })
const FIELD = format('field-element')
const COORDINATE = format('base-field-element')
const CHAIN = format('caip2')

/**
 * Stricter rules per command and field path. Paths: `field`, `field.sub` for records,
 * `field[]` for array items, `field{}` for map values.
 */
export const OVERLAYS: Record<CommandRecordName, Record<string, JsonSchema>> = {
  ProveCommand: {
    inputs: { minProperties: 1, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' } },
    'inputs{}': { minItems: 1, maxItems: 4_096 },
    'inputs{}[]': FIELD,
  },
  VerifyCommand: {
    'proof.piA': { minItems: 3, maxItems: 3 },
    'proof.piA[]': COORDINATE,
    'proof.piB': { minItems: 3, maxItems: 3 },
    'proof.piB[]': { minItems: 2, maxItems: 2 },
    'proof.piB[][]': COORDINATE,
    'proof.piC': { minItems: 3, maxItems: 3 },
    'proof.piC[]': COORDINATE,
    'proof.protocol': { enum: ['groth16'] },
    'proof.curve': { enum: ['bn128'] },
    publicSignals: { maxItems: 64 },
    'publicSignals[]': FIELD,
    expectedChain: CHAIN,
  },
  RegisterAttestationCommand: {
    chain: CHAIN,
    registry: format('chain-address'),
    attestationId: FIELD,
    root: FIELD,
    subjectId: { minLength: 1, maxLength: 256 },
  },
  PropagateNullifierCommand: {
    scope: FIELD,
    nullifier: FIELD,
    sourceChain: CHAIN,
    targetChains: { maxItems: 32, uniqueItems: true },
    'targetChains[]': CHAIN,
  },
  RequestErasureCommand: {
    subjectId: { minLength: 1, maxLength: 256 },
    reason: { maxLength: 1_000 },
  },
  AnalyzeBridgeCommand: { chain: CHAIN, messageId: format('hex-hash') },
  AnalyzeTransactionCommand: { chain: CHAIN, txHash: format('tx-hash') },
}

export interface CommandRoute {
  /** URL under which the command is accepted. */
  readonly url: string
  readonly record: CommandRecordName
  readonly summary: string
  /** Fields the route fixes itself (they are not in the request body). */
  readonly fixed?: Readonly<Record<string, string>>
}

/** One endpoint per command type; proving has one per circuit. */
export const COMMAND_ROUTES: readonly CommandRoute[] = [
  {
    url: '/api/v1/proofs/identity',
    record: 'ProveCommand',
    summary: 'Prove identity membership (Semaphore-compatible: membership and nullifier)',
    fixed: { circuit: 'IDENTITY_MEMBERSHIP' },
  },
  {
    url: '/api/v1/proofs/attestation',
    record: 'ProveCommand',
    summary: 'Prove an attestation with selective disclosure',
    fixed: { circuit: 'ATTESTATION_DISCLOSURE' },
  },
  {
    url: '/api/v1/proofs/erasure',
    record: 'ProveCommand',
    summary: 'Prove a cryptographic erasure',
    fixed: { circuit: 'ERASURE' },
  },
  { url: '/api/v1/proofs/verify', record: 'VerifyCommand', summary: 'Verify a Groth16 proof' },
  {
    url: '/api/v1/attestations',
    record: 'RegisterAttestationCommand',
    summary: 'Register an attestation root on a chain',
  },
  {
    url: '/api/v1/nullifiers/propagate',
    record: 'PropagateNullifierCommand',
    summary: 'Propagate a used nullifier to other chains',
  },
  {
    url: '/api/v1/erasure-requests',
    record: 'RequestErasureCommand',
    summary: "Request erasure of a data subject's data",
  },
  { url: '/api/v1/analysis/bridge', record: 'AnalyzeBridgeCommand', summary: 'Analyze a bridge message' },
  {
    url: '/api/v1/analysis/transaction',
    record: 'AnalyzeTransactionCommand',
    summary: 'Analyze a transaction',
  },
]

type AvroRecord = {
  type: 'record'
  name: string
  fields: { name: string; type: AvroSchema; default?: unknown; doc?: string }[]
  doc?: string
}

const isObject = (node: AvroSchema): node is { [key: string]: unknown } =>
  typeof node === 'object' && !Array.isArray(node)

/** The bundled command schema and the payload union's records by short name. */
export function commandSchema(): { schema: AvroSchema; branches: Map<CommandRecordName, AvroRecord> } {
  const schema = loadTopicSchema(TOPICS.command.valueSchemaFile)
  if (!isObject(schema)) throw new Error('command schema is not a record')
  const payload = (schema.fields as AvroRecord['fields']).find((field) => field.name === 'payload')
  if (!payload || !Array.isArray(payload.type)) throw new Error('command schema has no payload union')
  const branches = new Map<CommandRecordName, AvroRecord>()
  for (const branch of payload.type) {
    if (!isObject(branch) || branch.type !== 'record') throw new Error('payload branches must be records')
    branches.set(branch.name as CommandRecordName, branch as unknown as AvroRecord)
  }
  return { schema, branches }
}

/**
 * Named types are inlined at first use and referred to by name afterwards (schemas/load.ts);
 * the converter keeps the definitions it has seen so a later reference resolves.
 */
function convert(
  node: AvroSchema,
  path: string,
  overlay: Record<string, JsonSchema>,
  named: Map<string, AvroSchema>,
  namespace: string,
): JsonSchema {
  const extra = overlay[path] ?? {}
  if (typeof node === 'string') {
    switch (node) {
      case 'string':
        return { type: 'string', maxLength: MAX_STRING, ...extra }
      case 'int':
      case 'long':
        return { type: 'integer', ...extra }
      case 'float':
      case 'double':
        return { type: 'number', ...extra }
      case 'boolean':
        return { type: 'boolean', ...extra }
      default: {
        const fullName = node.includes('.') ? node : `${namespace}.${node}`
        const definition = named.get(fullName)
        if (!definition) throw new Error(`${path}: unknown Avro type ${node}`)
        return convert(definition, path, overlay, named, namespace)
      }
    }
  }
  if (Array.isArray(node)) {
    // Only optional values (["null", T]) reach HTTP; other unions are the routes themselves.
    const others = node.filter((branch) => branch !== 'null')
    if (others.length !== 1 || others.length === node.length)
      throw new Error(`${path}: only ["null", T] unions are supported`)
    const inner = convert(others[0]!, path, overlay, named, namespace)
    if (typeof inner.type === 'string') return { ...inner, type: [inner.type, 'null'] }
    return { anyOf: [{ type: 'null' }, inner] }
  }
  const ownNamespace = typeof node.namespace === 'string' ? node.namespace : namespace
  if (typeof node.name === 'string') {
    const fullName = node.name.includes('.') ? node.name : `${ownNamespace}.${node.name}`
    named.set(fullName, node)
  }
  switch (node.type) {
    case 'record': {
      const fields = node.fields as AvroRecord['fields']
      const properties: Record<string, JsonSchema> = {}
      const required: string[] = []
      for (const field of fields) {
        const fieldPath = path ? `${path}.${field.name}` : field.name
        const converted = convert(field.type, fieldPath, overlay, named, ownNamespace)
        if (field.doc) converted.description = field.doc
        if (field.default === undefined) required.push(field.name)
        else converted.default = field.default
        properties[field.name] = converted
      }
      return { type: 'object', additionalProperties: false, required, properties, ...extra }
    }
    case 'enum':
      return { type: 'string', enum: [...(node.symbols as string[])], ...extra }
    case 'array':
      return {
        type: 'array',
        maxItems: MAX_ITEMS,
        items: convert(node.items as AvroSchema, `${path}[]`, overlay, named, ownNamespace),
        ...extra,
      }
    case 'map':
      return {
        type: 'object',
        maxProperties: MAX_MAP_ENTRIES,
        additionalProperties: convert(node.values as AvroSchema, `${path}{}`, overlay, named, ownNamespace),
        ...extra,
      }
    default:
      if (isObject(node) && typeof node.type === 'string' && node.logicalType === undefined)
        return convert(node.type, path, overlay, named, ownNamespace)
      throw new Error(`${path}: Avro type ${JSON.stringify(node.type)} is not supported over HTTP`)
  }
}

/** The JSON schema of one route's request body. */
export function bodySchemaFor(route: CommandRoute): JsonSchema {
  const { schema, branches } = commandSchema()
  const record = branches.get(route.record)
  if (!record) throw new Error(`the command schema has no ${route.record}`)
  // Walk the whole command once so named types defined before the branch are known.
  const named = new Map<string, AvroSchema>()
  collectNamed(schema, named, '')
  const converted = convert(record, '', OVERLAYS[route.record], named, COMMAND_NAMESPACE)
  delete converted.description
  if (record.doc) converted.description = record.doc
  for (const field of Object.keys(route.fixed ?? {})) {
    delete (converted.properties as Record<string, unknown>)[field]
    converted.required = (converted.required as string[]).filter((name) => name !== field)
  }
  return converted
}

function collectNamed(node: AvroSchema, named: Map<string, AvroSchema>, namespace: string) {
  if (typeof node === 'string') return
  if (Array.isArray(node)) {
    for (const branch of node) collectNamed(branch, named, namespace)
    return
  }
  const ownNamespace = typeof node.namespace === 'string' ? node.namespace : namespace
  if (typeof node.name === 'string' && ['record', 'enum', 'fixed'].includes(String(node.type))) {
    named.set(node.name.includes('.') ? node.name : `${ownNamespace}.${node.name}`, node)
  }
  if (Array.isArray(node.fields))
    for (const field of node.fields as { type: AvroSchema }[]) collectNamed(field.type, named, ownNamespace)
  if (node.items !== undefined) collectNamed(node.items as AvroSchema, named, ownNamespace)
  if (node.values !== undefined) collectNamed(node.values as AvroSchema, named, ownNamespace)
}

/** The Avro payload branch for a validated body: the route's fixed fields plus the body. */
export function payloadFor(route: CommandRoute, body: Record<string, unknown>) {
  return { [`${COMMAND_NAMESPACE}.${route.record}`]: { ...body, ...route.fixed } }
}
