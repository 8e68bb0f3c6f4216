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
  await runBench(name, json ? (JSON.parse(json) as Parameters<typeof runBench>[1]) : {})
  process.exit(0)
} catch (error) {
  process.stderr.write(`bench ${name}: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
}
