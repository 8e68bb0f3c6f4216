import type { Command } from 'commander'
import { compileContracts, staleContractArtifacts } from '../../contracts/evm/build.ts'

export function registerContractsCommand(program: Command) {
  const contracts = program.command('contracts').description('EVM contracts (contracts/evm)')
  contracts
    .command('build')
    .description('compile contracts/evm/src with solc-js into contracts/evm/artifacts')
    .action(() => {
      process.stdout.write(`${compileContracts().join('\n')}\n`)
    })
  contracts
    .command('check')
    .description('fail when the contract artifacts are stale')
    .action(() => {
      const stale = staleContractArtifacts()
      if (stale.length > 0) {
        process.stderr.write(
          `veridis: contract artifacts are stale: ${stale.join('; ')}; run bin/veridis contracts build\n`,
        )
        process.exitCode = 1
      }
    })
}
