import { createHash } from 'node:crypto'
import { createReadStream, existsSync, readFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { PROJECT_ROOT } from '../core/paths.ts'
import { type CircuitSpec, MANIFEST_PATH, OWN_CIRCUITS, SOLIDITY_VERIFIERS_DIR } from './catalog.ts'

/**
 * circuits/artifacts/manifest.json ties every circuit source to the artifacts set up from
 * it. The check recomputes the source hash (the circuit file, its local includes and the
 * compiler and circomlib versions) and the artifact hashes: a changed circuit with old
 * artifacts, or artifacts edited by hand, fails.
 */
export interface CircuitManifestEntry {
  readonly sourceHash: string
  readonly constraints: number
  readonly publicSignals: number
  /** sha256 of each artifact file, by kind, paths relative to the project root. */
  readonly artifacts: Readonly<
    Record<'wasm' | 'zkey' | 'vkey' | 'solidity', { path: string; sha256: string }>
  >
}

export interface Manifest {
  readonly ptau: {
    readonly power: number
    readonly sha256: string
    /** 'development' for the locally generated one; otherwise the file name given. */
    readonly origin: string
  }
  readonly circuits: Readonly<Record<string, CircuitManifestEntry>>
}

const INCLUDE = /^\s*include\s+"([^"]+)"\s*;/gm

function packageVersion(name: string): string {
  const file = path.join(PROJECT_ROOT, 'node_modules', name, 'package.json')
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

/** The compiler flags the artifacts are built with; part of the source hash. */
export const CIRCOM_FLAGS = ['--r1cs', '--wasm', '--O2'] as const

/** Local source files a circuit is made of: the main file and its ./ includes, recursively. */
export function circuitSourceFiles(main: string): string[] {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const match of readFileSync(file, 'utf8').matchAll(INCLUDE)) {
      const target = match[1]!
      if (target.startsWith('./') || target.startsWith('../')) visit(path.resolve(path.dirname(file), target))
    }
  }
  visit(main)
  return [...seen].sort()
}

export function sourceHash(spec: CircuitSpec): string {
  if (!spec.source) throw new Error(`circuit ${spec.circuit} has no source of ours`)
  const hash = createHash('sha256')
  hash.update(
    `circom2@${packageVersion('circom2')} circomlib@${packageVersion('circomlib')} ${CIRCOM_FLAGS.join(' ')}\n`,
  )
  for (const file of circuitSourceFiles(spec.source)) {
    hash.update(`${path.relative(PROJECT_ROOT, file)}\n`)
    hash.update(readFileSync(file))
  }
  return hash.digest('hex')
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')))
  })
}

/**
 * Digest of an artifact. JSON artifacts are hashed in a canonical form (parsed and
 * re-serialised) so that the formatter's layout does not count as a change.
 */
export async function artifactDigest(file: string): Promise<string> {
  if (!file.endsWith('.json')) return sha256File(file)
  const canonical = JSON.stringify(JSON.parse(await readFile(file, 'utf8')))
  return createHash('sha256').update(canonical).digest('hex')
}

export function readManifest(): Manifest | undefined {
  if (!existsSync(MANIFEST_PATH)) return undefined
  return JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as Manifest
}

export async function writeManifest(manifest: Manifest): Promise<void> {
  await writeFile(MANIFEST_PATH, `${JSON.stringify(manifest, null, 2)}\n`)
}

export function solidityVerifierPath(spec: CircuitSpec): string {
  return path.join(SOLIDITY_VERIFIERS_DIR, `${spec.solidityContract}.sol`)
}

/** Every way the committed artifacts disagree with the circuit sources; empty when they agree. */
export async function checkArtifacts(manifest: Manifest | null = readManifest() ?? null): Promise<string[]> {
  if (!manifest) return ['circuits/artifacts/manifest.json is missing; run bin/veridis circuits ceremony']
  const problems: string[] = []
  for (const spec of OWN_CIRCUITS) {
    const entry = manifest.circuits[spec.id]
    if (!entry) {
      problems.push(`${spec.id}: not in the manifest; run bin/veridis circuits ceremony`)
      continue
    }
    if (entry.sourceHash !== sourceHash(spec)) {
      problems.push(
        `${spec.id}: circuit source changed since its artifacts were set up; run bin/veridis circuits ceremony`,
      )
    }
    for (const [kind, artifact] of Object.entries(entry.artifacts)) {
      const file = path.join(PROJECT_ROOT, artifact.path)
      if (!existsSync(file)) {
        problems.push(`${spec.id}: ${kind} artifact ${artifact.path} is missing`)
      } else if ((await artifactDigest(file)) !== artifact.sha256) {
        problems.push(`${spec.id}: ${kind} artifact ${artifact.path} does not match the manifest`)
      }
    }
  }
  return problems
}
