import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as snarkjs from 'snarkjs'
import { circuitSpecs, semaphoreSpec } from '../circuits/catalog.ts'
import { sharedCurve, terminateCurves } from '../circuits/curve.ts'
import { loadZkNative } from '../circuits/native.ts'
import { toSnarkjsProof } from '../circuits/points.ts'
import { computeWitness, createWitnessCalculators } from '../consumers/prover/witness.ts'
import {
  type BatchItem,
  nativeBatchVerifier,
  prepareKey,
  type VerificationKeyJson,
  verifyBatch,
} from '../consumers/verifier/batch.ts'
import { PROJECT_ROOT } from '../core/paths.ts'
import { median } from './stats.ts'
import { CIRCUIT, DEPTH, inputsFor, type ProverPath } from './zk-prove.ts'

/**
 * `veridis bench zk`: in one run, on Semaphore v4 depth-20 proofs:
 *  - proving, each path in a child process of its own (bench/zk-prove.ts) so its peak RSS is
 *    its own: a bare loop of snarkjs.groth16.fullProve; a bare loop of the circuit's wasm
 *    witness and the native addon's proof; the prover consumer on the native backend over the
 *    real bus (prove commands in, results out; target ≥ 5× snarkjs's proofs/s). Every prove
 *    request has its own message, so the consumer's cache never answers one;
 *  - the witness alone, both ways, alternated in this process: snarkjs's wtns.calculate (wasm
 *    read, compiled and instantiated per witness) against the prover's pooled calculators;
 *  - verification of the same `batch` proofs: snarkjs.groth16.verify one by one, the
 *    ffjavascript random-linear-combination batch, and the native batch (target ≥ 15× faster
 *    per proof than groth16.verify).
 */
interface PathResult {
  seconds: number
  maxRssMb: number
}

function proverPath(path_: ProverPath, proofs: number, run: string): Promise<PathResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        path.join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs'),
        path.join(PROJECT_ROOT, 'bench/zk-prove.ts'),
        JSON.stringify({ path: path_, proofs, run }),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`zk prover path ${path_} exited with ${code}`))
      resolve(JSON.parse(output.trim().split('\n').pop()!) as PathResult)
    })
  })
}

/** Per-witness ms, snarkjs's one-shot calculation against a reused calculator, alternated per round. */
async function witnessing(count: number, rounds: number, run: string) {
  const spec = semaphoreSpec(DEPTH)
  const inputs = inputsFor(count, `${run}/witness`) as Record<string, string[]>[]
  const witnesses = createWitnessCalculators()
  await witnesses.compute(spec, inputs[0]!)
  const oneShotMs: number[] = []
  const pooledMs: number[] = []
  for (let round = 0; round < rounds; round++) {
    let started = performance.now()
    for (const input of inputs) await computeWitness(spec, input)
    oneShotMs.push((performance.now() - started) / inputs.length)
    started = performance.now()
    for (const input of inputs) await witnesses.compute(spec, input)
    pooledMs.push((performance.now() - started) / inputs.length)
  }
  return { witnessOneShotMs: median(oneShotMs), witnessPooledMs: median(pooledMs) }
}

async function verification(batch: number, rounds: number, run: string) {
  const loaded = loadZkNative()
  if (!loaded.addon) throw new Error(`native addon ${loaded.reason}`)
  const spec = semaphoreSpec(DEPTH)
  const prover = new loaded.addon.Groth16Prover(spec.artifacts.zkey)
  // Sixteen distinct proofs, cycled through the batch.
  const items: BatchItem[] = []
  for (const input of inputsFor(Math.min(batch, 16), `${run}/verify`)) {
    const { publicSignals, ...points } = await prover.prove(
      await computeWitness(spec, input as Record<string, string[]>),
    )
    items.push({ proof: { ...points, protocol: 'groth16', curve: 'bn128' }, publicSignals })
  }
  const curve = await sharedCurve()
  const json = JSON.parse(
    readFileSync(circuitSpecs(DEPTH)[CIRCUIT].artifacts.vkey, 'utf8'),
  ) as VerificationKeyJson
  const key = prepareKey(curve, json)
  const native = nativeBatchVerifier(loaded.addon, json)
  const set = Array.from({ length: batch }, (_, index) => items[index % items.length]!)
  const snarkjsMs: number[] = []
  const batchMs: number[] = []
  const nativeMs: number[] = []
  for (let round = 0; round < rounds; round++) {
    let started = performance.now()
    for (const item of set) {
      if (
        !(await snarkjs.groth16.verify(json, [...item.publicSignals], toSnarkjsProof(item.proof) as never))
      ) {
        throw new Error('snarkjs refused a bench proof')
      }
    }
    snarkjsMs.push((performance.now() - started) / set.length)
    started = performance.now()
    const verdicts = await verifyBatch(curve, key, set)
    batchMs.push((performance.now() - started) / set.length)
    if (!verdicts.every((verdict) => verdict.valid)) throw new Error('the batch refused a bench proof')
    started = performance.now()
    const nativeVerdicts = await native.verify(set)
    nativeMs.push((performance.now() - started) / set.length)
    if (!nativeVerdicts.every((verdict) => verdict.valid))
      throw new Error('the native batch refused a bench proof')
  }
  return {
    snarkjsMs: median(snarkjsMs),
    batchMs: median(batchMs),
    nativeMs: median(nativeMs),
    threads: loaded.addon.threadCount(),
  }
}

export async function benchZk(options: { proofs: number; batch: number; rounds: number }) {
  try {
    const run = randomUUID()
    const snarkjsPath = await proverPath('snarkjs', options.proofs, run)
    const nativePath = await proverPath('native', options.proofs, run)
    const consumerPath = await proverPath('consumer', options.proofs, run)
    const witness = await witnessing(16, options.rounds, run)
    const verify = await verification(options.batch, options.rounds, run)
    return { ...options, snarkjsPath, nativePath, consumerPath, ...witness, ...verify }
  } finally {
    await terminateCurves()
  }
}

export function printZkBench(result: Awaited<ReturnType<typeof benchZk>>) {
  const out = (line: string) => process.stdout.write(`${line}\n`)
  const rate = (path_: PathResult) => result.proofs / path_.seconds
  const line = (name: string, path_: PathResult) =>
    out(
      `  ${name.padEnd(52)} ${rate(path_).toFixed(2).padStart(8)} proofs/s  ${(rate(path_) / rate(result.snarkjsPath)).toFixed(1).padStart(5)}×  peak RSS ${path_.maxRssMb.toFixed(0).padStart(5)} MB`,
    )
  out(`\nzk bench: Semaphore v4 depth ${DEPTH}, ${result.proofs} proofs per prover path`)
  out('proving (each path in its own process; × is against bare snarkjs; target ≥ 5×):')
  line('bare snarkjs fullProve loop', result.snarkjsPath)
  line(`bare native loop (pooled wasm witness, ${result.threads} threads)`, result.nativePath)
  line('prover consumer over Kafka, native', result.consumerPath)
  out(`witness alone, median of ${result.rounds} rounds of 16:`)
  out(`  snarkjs wtns.calculate      ${result.witnessOneShotMs.toFixed(2).padStart(8)} ms per witness`)
  out(
    `  pooled calculator           ${result.witnessPooledMs.toFixed(2).padStart(8)} ms per witness  ${(result.witnessOneShotMs / result.witnessPooledMs).toFixed(1)}×`,
  )
  out(`verification, batch of ${result.batch}, median of ${result.rounds} rounds:`)
  out(`  snarkjs.groth16.verify      ${result.snarkjsMs.toFixed(2).padStart(8)} ms per proof`)
  out(
    `  batch, ffjavascript         ${result.batchMs.toFixed(2).padStart(8)} ms per proof  ${(result.snarkjsMs / result.batchMs).toFixed(1)}×`,
  )
  out(
    `  batch, native (arkworks)    ${result.nativeMs.toFixed(2).padStart(8)} ms per proof  ${(result.snarkjsMs / result.nativeMs).toFixed(1)}×  (target ≥ 15×)`,
  )
}
