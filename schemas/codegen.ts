import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { toTypeScript } from '@ovotech/avro-ts'
import { loadAllTopicSchemas, SCHEMAS_DIR } from './load.ts'

/**
 * TypeScript types for every topic's value, generated from the bundled `.avsc` files by
 * @ovotech/avro-ts. Unions of records are wrapped (`{ 'io.veridis.x.Name': {...} }`),
 * which is exactly how avsc decodes them and how Avro's JSON encoding writes them.
 */
export const GENERATED_DIR = path.join(SCHEMAS_DIR, 'generated')

const HEADER = '// Generated from schemas/*.avsc by `veridis schemas generate`. Do not edit.\n'

function rootTypeName(schema: unknown): string {
  const name = (schema as { name?: unknown }).name
  if (typeof name !== 'string') throw new Error('a topic schema must be a named record')
  return name
}

/** File name → contents for everything under schemas/generated/. */
export function renderGeneratedTypes(): Map<string, string> {
  const files = new Map<string, string>()
  const index: string[] = []
  // avro-ts reports its own use of deprecated TypeScript factory calls on stderr; silence them.
  const warn = console.warn
  console.warn = () => {}
  try {
    for (const [file, schema] of loadAllTopicSchemas()) {
      const module = file.replace(/\.avsc$/, '.ts')
      files.set(module, HEADER + toTypeScript(schema as never))
      index.push(`export type { ${rootTypeName(schema)} } from './${module}'`)
    }
  } finally {
    console.warn = warn
  }
  files.set('index.ts', `${HEADER}${index.join('\n')}\n`)
  return files
}

export function writeGeneratedTypes(): string[] {
  const written: string[] = []
  for (const [file, contents] of renderGeneratedTypes()) {
    writeFileSync(path.join(GENERATED_DIR, file), contents)
    written.push(file)
  }
  return written
}

/** Files whose generated contents differ from what is on disk (or are missing or extra). */
export function staleGeneratedTypes(): string[] {
  const expected = renderGeneratedTypes()
  const stale: string[] = []
  for (const [file, contents] of expected) {
    let actual: string | undefined
    try {
      actual = readFileSync(path.join(GENERATED_DIR, file), 'utf8')
    } catch {
      actual = undefined
    }
    if (actual !== contents) stale.push(file)
  }
  for (const file of readdirSync(GENERATED_DIR)) if (!expected.has(file)) stale.push(file)
  return stale
}
