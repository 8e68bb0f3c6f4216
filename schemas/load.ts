import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Loads the Avro contracts. Shared named types live in `types/<fullname>.avsc`; each
 * topic's value schema lives in `topics/<topic>.avsc` and refers to shared types by full
 * name. What gets registered is self-contained: every shared type is inlined at its first
 * use, exactly as a single-file schema would have it, so any Confluent-compatible client
 * in any language reads it without schema references.
 */
export const SCHEMAS_DIR = path.dirname(fileURLToPath(import.meta.url))

export type AvroSchema = string | AvroSchema[] | { [key: string]: unknown }

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])

function readJson(file: string): AvroSchema {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AvroSchema
  } catch (error) {
    throw new Error(`schema file ${path.relative(SCHEMAS_DIR, file)} is not valid JSON`, { cause: error })
  }
}

export function loadSharedTypes(dir = path.join(SCHEMAS_DIR, 'types')): Map<string, AvroSchema> {
  const shared = new Map<string, AvroSchema>()
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.avsc'))
    .sort()) {
    const fullName = file.slice(0, -'.avsc'.length)
    const schema = readJson(path.join(dir, file))
    if (typeof schema !== 'object' || Array.isArray(schema))
      throw new Error(`${file}: a shared type must be a named type`)
    const declared = `${schema.namespace ?? ''}.${schema.name}`
    if (declared !== fullName)
      throw new Error(`${file}: declares ${declared}, file name must match its full name`)
    shared.set(fullName, schema)
  }
  return shared
}

/** Inlines shared named types at their first reference; later references stay by name. */
export function bundleSchema(schema: AvroSchema, shared: Map<string, AvroSchema>): AvroSchema {
  const defined = new Set<string>()
  const visit = (node: AvroSchema, namespace: string | undefined): AvroSchema => {
    if (typeof node === 'string') {
      if (PRIMITIVES.has(node)) return node
      const fullName = node.includes('.') ? node : namespace ? `${namespace}.${node}` : node
      if (defined.has(fullName)) return fullName
      const definition = shared.get(fullName)
      if (!definition) return node
      return visit(definition, namespace)
    }
    if (Array.isArray(node)) return node.map((branch) => visit(branch, namespace))
    const copy: { [key: string]: unknown } = { ...node }
    const ownNamespace = typeof node.namespace === 'string' ? node.namespace : namespace
    if (typeof node.name === 'string' && ['record', 'enum', 'fixed', 'error'].includes(String(node.type))) {
      defined.add(
        node.name.includes('.') ? node.name : ownNamespace ? `${ownNamespace}.${node.name}` : node.name,
      )
    }
    if (Array.isArray(node.fields)) {
      copy.fields = (node.fields as { type: AvroSchema }[]).map((field) => ({
        ...field,
        type: visit(field.type, ownNamespace),
      }))
    }
    if (node.items !== undefined) copy.items = visit(node.items as AvroSchema, ownNamespace)
    if (node.values !== undefined) copy.values = visit(node.values as AvroSchema, ownNamespace)
    if (typeof node.type === 'object' && node.type !== null)
      copy.type = visit(node.type as AvroSchema, ownNamespace)
    return copy
  }
  return visit(schema, undefined)
}

/** The self-contained value schema registered for a topic. */
export function loadTopicSchema(fileName: string, shared = loadSharedTypes()): AvroSchema {
  return bundleSchema(readJson(path.join(SCHEMAS_DIR, 'topics', fileName)), shared)
}

/** Every topic value schema, bundled, by file name. */
export function loadAllTopicSchemas(): Map<string, AvroSchema> {
  const shared = loadSharedTypes()
  const result = new Map<string, AvroSchema>()
  for (const file of readdirSync(path.join(SCHEMAS_DIR, 'topics'))
    .filter((name) => name.endsWith('.avsc'))
    .sort()) {
    result.set(file, loadTopicSchema(file, shared))
  }
  return result
}

/** Keys are Avro strings, registered under `<topic>-key`. */
export const KEY_SCHEMA: AvroSchema = 'string'
