import { type Command, Option } from 'commander'
import { progress } from '../progress.ts'

export function registerCircuitsCommand(program: Command) {
  const circuits = program.command('circuits').description('zero-knowledge circuits (circuits/, docs/zk.md)')
  circuits
    .command('build')
    .description('compile the circom circuits into scratch/zk/build (constraint counts, no keys)')
    .action(async () => {
      const { buildCircuits } = await import('../../circuits/cli.ts')
      await buildCircuits(progress)
    })
  circuits
    .command('ceremony')
    .description('development ceremony: keys, verification keys, Solidity verifiers, manifest')
    .addOption(new Option('--ptau <file>', "a public ceremony's ptau instead of a generated one"))
    .addOption(new Option('--power <n>', 'power of the generated ptau').argParser(Number))
    .action(async (options: { ptau?: string; power?: number }) => {
      const { runCeremony } = await import('../../circuits/ceremony.ts')
      await runCeremony({ ...options, log: progress })
    })
  circuits
    .command('check')
    .description('fail when a circuit changed and its artifacts did not')
    .action(async () => {
      const { checkArtifacts } = await import('../../circuits/manifest.ts')
      const problems = await checkArtifacts()
      for (const problem of problems) process.stderr.write(`veridis: circuits: ${problem}\n`)
      if (problems.length > 0) process.exitCode = 1
    })
}
