import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { hash } from 'starknet'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { fixWasm32Fallthroughs } from './sierra-fix.ts'

/**
 * Compiles the Cairo contracts under contracts/starknet/src/ offline, with a pinned toolchain:
 *   Cairo → Sierra: npm `wasm-cairo` 0.10.2 (the Cairo 2.8.2 compiler with its core library,
 *     as WebAssembly; Sierra 1.6.0), one single-file contract per source, then the wasm32
 *     fall-through fix (sierra-fix.ts) without which no 64-bit compiler reads the program;
 *   Sierra → CASM: `starknet-sierra-compile` 2.12.0-dev.0 from the PyPI package `cairo-lang`
 *     0.14.0.1 (casm-compiler.sh fetches it once per machine). starknet-devnet 0.10.1
 *     compiles the same Sierra itself when a class is declared and accepts the compiled
 *     class hash of this CASM (tested).
 * The artifacts (contracts/starknet/artifacts/<Name>.sierra.json, <Name>.casm.json, and
 * manifest.json with the class hashes) are committed: declaring needs no compiler, and
 * `veridis contracts check` (part of `npm test`) fails when sources, compilers or artifacts
 * no longer match, without recompiling.
 */
export const STARKNET_CONTRACTS_DIR = path.join(PROJECT_ROOT, 'contracts', 'starknet')
const ARTIFACTS_DIR = path.join(STARKNET_CONTRACTS_DIR, 'artifacts')
const MANIFEST = 'manifest.json'
/** Keep equal to what casm-compiler.sh fetches. */
const SIERRA_COMPILE_VERSION = '2.12.0-dev.0 (PyPI cairo-lang 0.14.0.1)'
const CASM_COMPILER_SCRIPT = path.join(STARKNET_CONTRACTS_DIR, 'casm-compiler.sh')

export type StarknetContractName = 'AttestationRegistry' | 'NullifierRegistry'

export interface StarknetArtifact {
  readonly contractName: string
  /** The Sierra contract class as the compiler writes it (sierra_program, entry points, ABI). */
  readonly sierra: { readonly abi: unknown } & Record<string, unknown>
  /** The CASM compiled class. */
  readonly casm: Record<string, unknown>
  readonly classHash: string
}

interface Manifest {
  readonly compilers: { readonly sierra: string; readonly casm: string }
  readonly inputHash: string
  readonly sources: readonly string[]
  readonly contracts: Record<string, { readonly classHash: string; readonly source: string }>
  readonly artifacts: Record<string, string>
}

export class CairoCompileError extends Error {
  override name = 'CairoCompileError'
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

function wasmCairoVersion(): string {
  const file = path.join(PROJECT_ROOT, 'node_modules', 'wasm-cairo', 'package.json')
  return `wasm-cairo ${(JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version}`
}
const casmCompiler = `starknet-sierra-compile ${SIERRA_COMPILE_VERSION}`

function readSources(): Map<string, string> {
  const dir = path.join(STARKNET_CONTRACTS_DIR, 'src')
  const names = existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.cairo')) : []
  return new Map(names.sort().map((name) => [`src/${name}`, readFileSync(path.join(dir, name), 'utf8')]))
}

function inputHash(sources: ReadonlyMap<string, string>): string {
  const digest = createHash('sha256').update(wasmCairoVersion()).update(`\u0000${casmCompiler}`)
  for (const [name, content] of sources) digest.update(`\u0000${name}\u0000${content}`)
  return digest.digest('hex')
}

/** The contract a source defines: the module under `#[starknet::contract]`. */
function contractNameOf(sourceName: string, source: string): string {
  const match = /#\[starknet::contract\]\s*(?:pub\s+)?mod\s+(\w+)/.exec(source)
  if (!match) throw new CairoCompileError(`${sourceName}: no #[starknet::contract] module`)
  return match[1]!
}

async function loadWasmCairo() {
  const module = await import('wasm-cairo')
  module.initSync({
    module: readFileSync(path.join(PROJECT_ROOT, 'node_modules', 'wasm-cairo', 'wasm-cairo_bg.wasm')),
  })
  return module
}

/** The Sierra → CASM compiler, fetched on first use (once per machine). */
function sierraCompileBinary(): string {
  const out = execFileSync('bash', [CASM_COMPILER_SCRIPT], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return out.trim().split('\n').at(-1)!
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`

/** Compiles in memory: artifact file name → content, plus the manifest. Minutes per contract. */
export async function renderStarknetArtifacts(progress: (line: string) => void = () => {}) {
  const sources = readSources()
  if (sources.size === 0) throw new CairoCompileError('no Cairo sources under contracts/starknet/src')
  const cairo = await loadWasmCairo()
  const casmBinary = sierraCompileBinary()
  const work = mkdtempSync(path.join(os.tmpdir(), 'veridis-cairo-'))
  const files = new Map<string, string>()
  const contracts: Manifest['contracts'] = {}
  try {
    for (const [sourceName, source] of sources) {
      const name = contractNameOf(sourceName, source)
      const started = Date.now()
      // wasm-cairo answers "Compilation failed." without diagnostics (they go to a stderr
      // WebAssembly does not have); warnings are refused so that they fail here too.
      // replace_ids keeps readable names in the debug info; the program is the same.
      const output = cairo.compileStarknetContract(source, false, true)
      if (!output.trimStart().startsWith('{')) {
        throw new CairoCompileError(
          `${sourceName}: ${output.trim()} (wasm-cairo gives no diagnostics; narrow the change down, or compile it with runTests in wasm-cairo, which is faster)`,
        )
      }
      const sierra = JSON.parse(output) as StarknetArtifact['sierra'] & { sierra_program: string[] }
      sierra.sierra_program = fixWasm32Fallthroughs(sierra.sierra_program).program
      const sierraFile = path.join(work, `${name}.sierra.json`)
      const casmFile = path.join(work, `${name}.casm.json`)
      writeFileSync(sierraFile, JSON.stringify(sierra))
      execFileSync(casmBinary, [sierraFile, casmFile], { stdio: ['ignore', 'ignore', 'pipe'] })
      const casm = JSON.parse(readFileSync(casmFile, 'utf8')) as Record<string, unknown>
      files.set(`${name}.sierra.json`, json(sierra))
      files.set(`${name}.casm.json`, json(casm))
      contracts[name] = { classHash: hash.computeContractClassHash(sierra as never), source: sourceName }
      progress(`${name}: compiled in ${((Date.now() - started) / 1000).toFixed(0)} s`)
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  const manifest: Manifest = {
    compilers: { sierra: wasmCairoVersion(), casm: casmCompiler },
    inputHash: inputHash(sources),
    sources: [...sources.keys()],
    contracts,
    artifacts: Object.fromEntries([...files].map(([file, content]) => [file, sha256(content)])),
  }
  files.set(MANIFEST, json(manifest))
  return files
}

/** Compiles and (re)writes contracts/starknet/artifacts/; returns the files written. */
export async function compileStarknetContracts(progress?: (line: string) => void): Promise<string[]> {
  const files = await renderStarknetArtifacts(progress)
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  for (const existing of readdirSync(ARTIFACTS_DIR)) {
    if (existing.endsWith('.json') && !files.has(existing)) rmSync(path.join(ARTIFACTS_DIR, existing))
  }
  for (const [file, content] of files) writeFileSync(path.join(ARTIFACTS_DIR, file), content)
  return [...files.keys()]
}

function readManifest(): Manifest | undefined {
  const file = path.join(ARTIFACTS_DIR, MANIFEST)
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Manifest) : undefined
}

/** Reasons the committed Cairo artifacts are stale, empty when current. Needs no compiler. */
export function staleStarknetArtifacts(): string[] {
  const manifest = readManifest()
  if (!manifest) return [`starknet/artifacts/${MANIFEST} is missing`]
  const problems: string[] = []
  if (manifest.inputHash !== inputHash(readSources())) {
    problems.push('Cairo sources or compiler versions changed since the StarkNet artifacts were built')
  }
  for (const [file, digest] of Object.entries(manifest.artifacts)) {
    const full = path.join(ARTIFACTS_DIR, file)
    if (!existsSync(full)) problems.push(`starknet/artifacts/${file} is missing`)
    else if (sha256(readFileSync(full, 'utf8')) !== digest)
      problems.push(`starknet/artifacts/${file} was edited by hand`)
  }
  for (const file of readdirSync(ARTIFACTS_DIR)) {
    if (file.endsWith('.json') && file !== MANIFEST && !(file in manifest.artifacts)) {
      problems.push(`starknet/artifacts/${file} is not produced by the sources`)
    }
  }
  return problems
}

/** One compiled Cairo contract; throws with the build command when it is missing. */
export function loadStarknetArtifact(name: StarknetContractName): StarknetArtifact {
  const manifest = readManifest()
  const entry = manifest?.contracts[name]
  if (!entry) throw new Error(`no StarkNet artifact for ${name}; run bin/veridis contracts build`)
  const read = (suffix: string) =>
    JSON.parse(readFileSync(path.join(ARTIFACTS_DIR, `${name}.${suffix}.json`), 'utf8')) as Record<
      string,
      unknown
    >
  return {
    contractName: name,
    sierra: read('sierra') as StarknetArtifact['sierra'],
    casm: read('casm'),
    classHash: entry.classHash,
  }
}
