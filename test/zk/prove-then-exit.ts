// Child process for prover.test.ts: proves once, then terminates the curve workers or not
// (argv[2] === 'terminate'), and relies on the process exiting by itself.
import { circuitSpecs } from '../../circuits/catalog.ts'
import { terminateCurves } from '../../circuits/curve.ts'
import { loadHashers } from '../../circuits/inputs.ts'
import { createProver } from '../../consumers/prover/prover.ts'
import { erasureCase } from './fixtures.ts'

const prover = createProver({ specs: circuitSpecs(20), concurrency: 1, cacheSize: 0 })
const outcome = await prover.prove('ERASURE', erasureCase(await loadHashers(), 'exit').inputs)
process.stdout.write(`${outcome.status}\n`)
if (process.argv[2] === 'terminate') await terminateCurves()
