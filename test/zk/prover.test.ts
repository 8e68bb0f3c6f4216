import { spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { circuitSpecs } from '../../circuits/catalog.ts'
import { sharedCurve, terminateCurves } from '../../circuits/curve.ts'
import { type Hashers, loadHashers } from '../../circuits/inputs.ts'
import { createLimiter } from '../../consumers/prover/limit.ts'
import { createProver } from '../../consumers/prover/prover.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { disclosureCase, erasureCase, fieldOf } from './fixtures.ts'

let hashers: Hashers
beforeAll(async () => {
  await sharedCurve()
  hashers = await loadHashers()
})
afterAll(terminateCurves)

const specs = circuitSpecs(20)

describe('prover', () => {
  test('the cache answers a repeated request; a request in flight is computed once', async () => {
    const observed: string[] = []
    const prover = createProver({
      specs,
      concurrency: 2,
      cacheSize: 10,
      metrics: { observe: (circuit, outcome) => observed.push(`${circuit}:${outcome}`) },
    })
    const { inputs } = erasureCase(hashers, 'cache')
    const [first, concurrent] = await Promise.all([
      prover.prove('ERASURE', inputs),
      prover.prove('ERASURE', inputs),
    ])
    expect(first.status).toBe('GENERATED')
    expect(concurrent).toBe(first)
    const again = await prover.prove('ERASURE', inputs)
    expect(again).toMatchObject({ status: 'GENERATED', cached: true })
    if (again.status === 'GENERATED' && first.status === 'GENERATED') expect(again.proof).toEqual(first.proof)
    expect(prover.cache.size).toBe(1)
    expect(observed).toEqual(['ERASURE:success', 'ERASURE:success'])
  })

  test('two holders with the same public inputs never share a cached proof', async () => {
    const prover = createProver({ specs, concurrency: 2, cacheSize: 10 })
    const shared = { applicationId: fieldOf('app/x'), scope: 1n, message: 2n, discloseMask: 0 }
    const alice = disclosureCase(hashers, 'alice', shared)
    const bob = disclosureCase(hashers, 'bob', shared)
    const [a, b] = await Promise.all([
      prover.prove('ATTESTATION_DISCLOSURE', alice.inputs),
      prover.prove('ATTESTATION_DISCLOSURE', bob.inputs),
    ])
    if (a.status !== 'GENERATED' || b.status !== 'GENERATED') throw new Error('expected two proofs')
    expect(b.cached).toBe(false)
    // Same public inputs, different holders: different nullifiers (signal 1).
    expect(a.publicSignals[1]).not.toBe(b.publicSignals[1])
    expect(prover.cache.size).toBe(2)
  })

  test('the limiter never runs more tasks at once than allowed, and runs them all', async () => {
    const limit = createLimiter(2)
    let running = 0
    let peak = 0
    const done = await Promise.all(
      Array.from({ length: 7 }, (_, index) =>
        limit(async () => {
          running++
          peak = Math.max(peak, running)
          await new Promise((resolve) => setTimeout(resolve, 5))
          running--
          return index
        }),
      ),
    )
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(peak).toBe(2)
  })

  test('terminating the curve lets a process that proved exit; without it the worker threads keep it alive', async () => {
    const run = (mode: string) =>
      new Promise<{ exited: boolean; output: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', path.join(PROJECT_ROOT, 'test', 'zk', 'prove-then-exit.ts'), mode],
          { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'ignore'] },
        )
        let output = ''
        child.stdout.on('data', (chunk) => {
          output += chunk
        })
        let timer: NodeJS.Timeout | undefined
        child.on('exit', () => {
          clearTimeout(timer)
          resolve({ exited: true, output })
        })
        const watchProof = setInterval(() => {
          if (!output.includes('GENERATED')) return
          clearInterval(watchProof)
          // Once the proof is out the process has nothing left to do but exit.
          timer = setTimeout(() => {
            child.kill('SIGKILL')
            resolve({ exited: false, output })
          }, 4_000)
        }, 50)
        child.on('exit', () => clearInterval(watchProof))
      })
    const [terminated, kept] = await Promise.all([run('terminate'), run('keep')])
    expect(terminated).toEqual({ exited: true, output: 'GENERATED\n' })
    expect(kept).toEqual({ exited: false, output: 'GENERATED\n' })
  })
})
