import { useWasmKeccak } from '../core/crypto/keccak.ts'
import { runBench } from './run.ts'

/**
 * The benchmarks' entry point: `veridis bench <name> [options]` runs it as a child process
 * with the name and the parsed options as JSON (cli/commands/bench.ts).
 */
const [name, json] = process.argv.slice(2)
if (!name) {
  process.stderr.write('usage: bench/main.ts <name> [options as JSON]\n')
  process.exit(64)
}
try {
  // As every veridis process does at start (cli/main.ts): the stages measured here run in this one.
  await useWasmKeccak()
  await runBench(name, json ? (JSON.parse(json) as Parameters<typeof runBench>[1]) : {})
  process.exit(0)
} catch (error) {
  process.stderr.write(`bench ${name}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
