import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import * as snarkjs from 'snarkjs'
import { PROJECT_ROOT } from '../core/paths.ts'
import {
  ARTIFACTS_DIR,
  type CircuitSpec,
  OWN_CIRCUITS,
  SOLIDITY_VERIFIERS_DIR,
  semaphoreSpec,
} from './catalog.ts'
import { terminateCurves } from './curve.ts'
import {
  artifactDigest,
  CIRCOM_FLAGS,
  type CircuitManifestEntry,
  type Manifest,
  sha256File,
  solidityVerifierPath,
  sourceHash,
  writeManifest,
} from './manifest.ts'

/**
 * The development ceremony (DESIGN §7): compile each circuit, set up its Groth16 keys over
 * a powers-of-tau file, and write wasm, zkey, verification key and Solidity verifier with
 * the manifest. Without --ptau a power-`power` ptau is generated once (one local
 * contribution, ~15 min on 2 cores) and cached under scratch/; production passes the
 * ptau of a public ceremony (e.g. the Hermez/Polygon powersOfTau28_hez_final_14.ptau).
 */
export const BUILD_DIR = path.join(PROJECT_ROOT, 'scratch', 'zk', 'build')
export const DEV_PTAU_DIR = path.join(PROJECT_ROOT, 'scratch', 'zk', 'ptau')
/** 2^14 = 16384 constraints; both circuits are about 10k (circom --O2). */
export const DEFAULT_POWER = 14

type Log = (line: string) => void

const entropy = () => randomBytes(32).toString('hex')

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output}`)),
    )
  })
}

/** Compiles one circuit into scratch/zk/build/<id>/; returns the r1cs and wasm paths. */
export async function compileCircuit(spec: CircuitSpec, log: Log = () => undefined) {
  if (!spec.source) throw new Error(`circuit ${spec.circuit} is not ours to compile`)
  const outDir = path.join(BUILD_DIR, spec.id)
  await mkdir(outDir, { recursive: true })
  log(`compiling ${path.relative(PROJECT_ROOT, spec.source)}`)
  const circom = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'circom2')
  await run(circom, [spec.source, ...CIRCOM_FLAGS, '-l', 'node_modules', '-o', outDir])
  const base = path.basename(spec.source, '.circom')
  return {
    r1cs: path.join(outDir, `${base}.r1cs`),
    wasm: path.join(outDir, `${base}_js`, `${base}.wasm`),
  }
}

/** A development ptau of the given power, generated on first use and cached. */
export async function developmentPtau(power: number, log: Log): Promise<string> {
  const final = path.join(DEV_PTAU_DIR, `pot${power}_dev.ptau`)
  if (existsSync(final)) return final
  await mkdir(DEV_PTAU_DIR, { recursive: true })
  const first = path.join(DEV_PTAU_DIR, `pot${power}_0000.ptau`)
  const contributed = path.join(DEV_PTAU_DIR, `pot${power}_0001.ptau`)
  const partial = `${final}.partial`
  log(`generating a development ptau of power ${power} (slow: ~15 min for 14 on 2 cores)`)
  const curve = await (await import('ffjavascript')).buildBn128()
  try {
    await snarkjs.powersOfTau.newAccumulator(curve, power, first)
  } finally {
    await curve.terminate()
  }
  await snarkjs.powersOfTau.contribute(first, contributed, 'veridis development', entropy())
  await snarkjs.powersOfTau.preparePhase2(contributed, partial)
  await rename(partial, final)
  await rm(first, { force: true })
  await rm(contributed, { force: true })
  return final
}

/** Solidity verifier from a zkey, with a contract name of its own so several compile together. */
async function exportSolidityVerifier(zkey: string, contractName: string, file: string) {
  const template = await readFile(
    path.join(PROJECT_ROOT, 'node_modules', 'snarkjs', 'templates', 'verifier_groth16.sol.ejs'),
    'utf8',
  )
  const source: string = await snarkjs.zKey.exportSolidityVerifier(zkey, { groth16: template })
  if (!source.includes('contract Groth16Verifier')) throw new Error('unexpected snarkjs verifier template')
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, source.replace('contract Groth16Verifier', `contract ${contractName}`))
}

async function setUpCircuit(spec: CircuitSpec, ptau: string, log: Log): Promise<CircuitManifestEntry> {
  const { r1cs, wasm } = await compileCircuit(spec, log)
  const info = await snarkjs.r1cs.info(r1cs)
  const work = path.join(BUILD_DIR, spec.id)
  const zkey0 = path.join(work, `${spec.id}_0000.zkey`)
  const zkey1 = path.join(work, `${spec.id}_0001.zkey`)
  log(`${spec.id}: ${info.nConstraints} constraints; phase 2 setup`)
  await snarkjs.zKey.newZKey(r1cs, ptau, zkey0)
  await snarkjs.zKey.contribute(zkey0, zkey1, 'veridis development', entropy())
  // A beacon last, as public ceremonies do: the final key does not depend on one party's secret alone.
  await snarkjs.zKey.beacon(zkey1, spec.artifacts.zkey, 'veridis beacon', randomBytes(32).toString('hex'), 10)
  await copyFile(wasm, spec.artifacts.wasm)
  const vkey = await snarkjs.zKey.exportVerificationKey(spec.artifacts.zkey)
  await writeFile(spec.artifacts.vkey, `${JSON.stringify(vkey, null, 2)}\n`)
  await exportSolidityVerifier(spec.artifacts.zkey, spec.solidityContract, solidityVerifierPath(spec))
  const relative = (file: string) => path.relative(PROJECT_ROOT, file)
  const artifact = async (file: string) => ({ path: relative(file), sha256: await artifactDigest(file) })
  return {
    sourceHash: sourceHash(spec),
    constraints: info.nConstraints,
    publicSignals: info.nPubInputs + info.nOutputs,
    artifacts: {
      wasm: await artifact(spec.artifacts.wasm),
      zkey: await artifact(spec.artifacts.zkey),
      vkey: await artifact(spec.artifacts.vkey),
      solidity: await artifact(solidityVerifierPath(spec)),
    },
  }
}

/**
 * The power of a ptau file, from its header section (type 1: n8, q, power, ceremony
 * power), so the manifest records what a production ptau really holds.
 */
export async function ptauPower(file: string): Promise<number> {
  const handle = await open(file, 'r')
  try {
    const head = Buffer.alloc(12)
    await handle.read(head, 0, 12, 0)
    if (head.toString('latin1', 0, 4) !== 'ptau') throw new Error(`${file} is not a ptau file`)
    let offset = 12
    for (let section = 0; section < head.readUInt32LE(8); section++) {
      const sectionHead = Buffer.alloc(12)
      await handle.read(sectionHead, 0, 12, offset)
      const type = sectionHead.readUInt32LE(0)
      const size = Number(sectionHead.readBigUInt64LE(4))
      if (type === 1) {
        const header = Buffer.alloc(size)
        await handle.read(header, 0, size, offset + 12)
        const n8 = header.readUInt32LE(0)
        return header.readUInt32LE(4 + n8)
      }
      offset += 12 + size
    }
    throw new Error(`${file} has no header section`)
  } finally {
    await handle.close()
  }
}

export async function runCeremony(options: { ptau?: string; power?: number; log?: Log }): Promise<Manifest> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const power = options.power ?? DEFAULT_POWER
  try {
    const ptau = options.ptau ? path.resolve(options.ptau) : await developmentPtau(power, log)
    if (!existsSync(ptau)) throw new Error(`ptau file ${ptau} does not exist`)
    await mkdir(ARTIFACTS_DIR, { recursive: true })
    const circuits: Record<string, CircuitManifestEntry> = {}
    for (const spec of OWN_CIRCUITS) circuits[spec.id] = await setUpCircuit(spec, ptau, log)
    // Semaphore's keys come from its own public ceremony; only its verifier is exported here.
    const semaphore = semaphoreSpec()
    await exportSolidityVerifier(
      semaphore.artifacts.zkey,
      semaphore.solidityContract,
      path.join(SOLIDITY_VERIFIERS_DIR, `${semaphore.solidityContract}.sol`),
    )
    const manifest: Manifest = {
      ptau: {
        power: await ptauPower(ptau),
        sha256: await sha256File(ptau),
        origin: options.ptau ? path.basename(ptau) : 'development',
      },
      circuits,
    }
    await writeManifest(manifest)
    log(`wrote ${path.relative(PROJECT_ROOT, ARTIFACTS_DIR)}/manifest.json`)
    return manifest
  } finally {
    await terminateCurves()
  }
}
