import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { PROJECT_ROOT } from '../../core/paths.ts'

/**
 * Compiles every Solidity source under contracts/evm/src/ (subfolders included, e.g. the
 * snarkjs-exported verifiers in src/verifiers/) with solc-js, offline, and writes one
 * artifact per contract to contracts/evm/artifacts/<Name>.json (ABI, bytecode, deployed
 * bytecode). The artifacts are committed; `veridis contracts check` fails when they no
 * longer match the sources, the compiler or the settings.
 *
 * Naming: a contract name defined in only one source gives `<Name>.json`. snarkjs names
 * every exported verifier `Groth16Verifier`, so a name defined in several sources gives
 * `<FileBase>.<Name>.json` for each (src/verifiers/Membership.sol → Membership.Groth16Verifier.json).
 */
export const EVM_CONTRACTS_DIR = path.join(PROJECT_ROOT, 'contracts', 'evm')
export const ARTIFACTS_DIR = path.join(EVM_CONTRACTS_DIR, 'artifacts')
const MANIFEST = 'manifest.json'

/**
 * A folder of Solidity sources and the folder its artifacts are written to. The production
 * contracts are one tree; other trees (e.g. the deliberately vulnerable bridge gateways the
 * tests attack) are compiled by the same pinned solc with the same settings and checked for
 * staleness the same way, with artifacts of their own.
 */
export interface ContractTree {
  /** Source unit names are relative to this folder, and imports resolve from it. */
  readonly root: string
  /** Folder under `root` searched (with subfolders) for .sol files. */
  readonly sources: string
  readonly artifacts: string
}

const PRODUCTION_TREE: ContractTree = { root: EVM_CONTRACTS_DIR, sources: 'src', artifacts: ARTIFACTS_DIR }
const treeOf = (tree: string | ContractTree): ContractTree =>
  typeof tree === 'string' ? { root: tree, sources: 'src', artifacts: path.join(tree, 'artifacts') } : tree

// Pinned with the solc npm package; part of the input hash so a compiler bump rebuilds.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
} as const

export interface ContractArtifact {
  readonly contractName: string
  /** Source unit, relative to contracts/evm (e.g. src/NullifierRegistry.sol). */
  readonly sourceName: string
  readonly abi: readonly unknown[]
  /** 0x-prefixed creation code; '0x' for interfaces and abstract contracts. */
  readonly bytecode: string
  readonly deployedBytecode: string
  readonly compiler: string
}

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[]
  contracts?: Record<
    string,
    Record<
      string,
      { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }
    >
  >
}

interface Solc {
  version(): string
  compile(
    input: string,
    callbacks?: { import: (path: string) => { contents: string } | { error: string } },
  ): string
}

function loadSolc(): Solc {
  // solc-js is CommonJS and ships the compiler as emscripten; createRequire keeps it offline.
  return createRequire(import.meta.url)('solc') as Solc
}

/** Every .sol file under <root>/<sources>/, as source unit names relative to root, sorted. */
export function listSources(tree: string | ContractTree = PRODUCTION_TREE): string[] {
  const { root, sources } = treeOf(tree)
  const dir = path.join(root, sources)
  if (!existsSync(dir)) return []
  const found: string[] = []
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.name.endsWith('.sol')) found.push(path.relative(root, full).split(path.sep).join('/'))
    }
  }
  walk(dir)
  return found.sort()
}

/** Hash of everything the artifacts depend on: compiler version, settings, every source. */
function inputHash(solcVersion: string, sources: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256').update(solcVersion).update(JSON.stringify(SETTINGS))
  for (const [name, content] of [...sources].sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`\u0000${name}\u0000${content}`)
  }
  return hash.digest('hex')
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

function readSources(tree: ContractTree): Map<string, string> {
  return new Map(listSources(tree).map((name) => [name, readFileSync(path.join(tree.root, name), 'utf8')]))
}

/** Resolves imports that are not among the sources: from the contracts root, then node_modules. */
function resolveImport(root: string, importPath: string): { contents: string } | { error: string } {
  for (const base of [root, path.join(PROJECT_ROOT, 'node_modules')]) {
    const candidate = path.resolve(base, importPath)
    if (candidate.startsWith(base) && existsSync(candidate))
      return { contents: readFileSync(candidate, 'utf8') }
  }
  return { error: `import '${importPath}' not found under contracts/evm or node_modules` }
}

export class ContractCompileError extends Error {
  override name = 'ContractCompileError'
}

/**
 * Compiles in memory: artifact file name → artifact, plus the manifest that pins them.
 * The tree is contracts/evm unless a test compiles a folder of its own (a string is a root
 * with its sources in <root>/src).
 */
export function renderArtifacts(tree: string | ContractTree = PRODUCTION_TREE): Map<string, string> {
  const { root } = treeOf(tree)
  const solc = loadSolc()
  const sources = readSources(treeOf(tree))
  if (sources.size === 0)
    throw new ContractCompileError(`no Solidity sources under ${path.join(root, treeOf(tree).sources)}`)
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries([...sources].map(([name, content]) => [name, { content }])),
    settings: SETTINGS,
  }
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), { import: (importPath) => resolveImport(root, importPath) }),
  ) as SolcOutput
  const errors = (output.errors ?? []).filter((problem) => problem.severity === 'error')
  if (errors.length > 0) {
    throw new ContractCompileError(
      `solc ${solc.version()} failed:\n${errors.map((problem) => problem.formattedMessage).join('\n')}`,
    )
  }

  const compiled: { sourceName: string; contractName: string; artifact: ContractArtifact }[] = []
  for (const [sourceName, contracts] of Object.entries(output.contracts ?? {})) {
    // Imports from node_modules are compiled too; only our own sources get artifacts.
    if (!sources.has(sourceName)) continue
    for (const [contractName, contract] of Object.entries(contracts)) {
      compiled.push({
        sourceName,
        contractName,
        artifact: {
          contractName,
          sourceName,
          abi: contract.abi,
          bytecode: `0x${contract.evm.bytecode.object}`,
          deployedBytecode: `0x${contract.evm.deployedBytecode.object}`,
          compiler: `solc-js ${solc.version()}`,
        },
      })
    }
  }
  const definitions = new Map<string, number>()
  for (const entry of compiled)
    definitions.set(entry.contractName, (definitions.get(entry.contractName) ?? 0) + 1)

  const files = new Map<string, string>()
  for (const entry of compiled.sort((a, b) => a.sourceName.localeCompare(b.sourceName))) {
    const fileBase = path.basename(entry.sourceName, '.sol')
    const file =
      (definitions.get(entry.contractName) ?? 0) > 1
        ? `${fileBase}.${entry.contractName}.json`
        : `${entry.contractName}.json`
    if (files.has(file)) throw new ContractCompileError(`two contracts would both be written to ${file}`)
    files.set(file, `${JSON.stringify(entry.artifact, null, 2)}\n`)
  }
  const manifest = {
    compiler: `solc-js ${solc.version()}`,
    inputHash: inputHash(solc.version(), sources),
    sources: [...sources.keys()],
    artifacts: Object.fromEntries([...files].map(([file, content]) => [file, sha256(content)])),
  }
  files.set(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`)
  return files
}

/** Compiles and (re)writes the tree's artifacts (contracts/evm/artifacts/); returns the files written. */
export function compileContracts(tree: ContractTree = PRODUCTION_TREE): string[] {
  const files = renderArtifacts(tree)
  mkdirSync(tree.artifacts, { recursive: true })
  for (const existing of readdirSync(tree.artifacts)) {
    if (existing.endsWith('.json') && !files.has(existing)) rmSync(path.join(tree.artifacts, existing))
  }
  for (const [file, content] of files) writeFileSync(path.join(tree.artifacts, file), content)
  return [...files.keys()]
}

/**
 * Reasons the committed artifacts are stale, empty when current. Fast: compares the
 * manifest's input hash (compiler, settings, sources) and each artifact's content hash
 * instead of recompiling.
 */
export function staleContractArtifacts(tree: ContractTree = PRODUCTION_TREE): string[] {
  const manifestFile = path.join(tree.artifacts, MANIFEST)
  if (!existsSync(manifestFile)) return [`${MANIFEST} is missing`]
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    inputHash: string
    artifacts: Record<string, string>
  }
  const problems: string[] = []
  const sources = readSources(tree)
  if (manifest.inputHash !== inputHash(loadSolc().version(), sources)) {
    problems.push('sources, compiler or settings changed since the artifacts were built')
  }
  for (const [file, hash] of Object.entries(manifest.artifacts)) {
    const full = path.join(tree.artifacts, file)
    if (!existsSync(full)) problems.push(`${file} is missing`)
    else if (sha256(readFileSync(full, 'utf8')) !== hash) problems.push(`${file} was edited by hand`)
  }
  for (const file of readdirSync(tree.artifacts)) {
    if (file.endsWith('.json') && file !== MANIFEST && !(file in manifest.artifacts)) {
      problems.push(`${file} is not produced by the sources`)
    }
  }
  return problems
}

/** Reads one compiled contract; throws with the build command when it is missing. */
export function loadArtifact(name: string, artifacts = ARTIFACTS_DIR): ContractArtifact {
  const file = path.join(artifacts, `${name}.json`)
  if (!existsSync(file)) {
    throw new Error(`no artifact ${path.relative(PROJECT_ROOT, file)}; run bin/veridis contracts build`)
  }
  return JSON.parse(readFileSync(file, 'utf8')) as ContractArtifact
}
