import type { Command } from 'commander'
import { compileContracts, staleContractArtifacts } from '../../contracts/evm/build.ts'
import { compileStarknetContracts, staleStarknetArtifacts } from '../../contracts/starknet/build.ts'

export function registerContractsCommand(program: Command) {
  const contracts = program
    .command('contracts')
    .description('EVM contracts (contracts/evm) and Cairo contracts (contracts/starknet)')
  contracts
    .command('build')
    .description(
      'compile contracts/evm/src with solc-js into contracts/evm/artifacts; with --starknet, contracts/starknet/src with wasm-cairo and starknet-sierra-compile instead',
    )
    .option('--starknet', 'compile the Cairo contracts (several minutes per contract)')
    .action(async (options: { starknet?: boolean }) => {
      if (!options.starknet) {
        process.stdout.write(`${compileContracts().join('\n')}\n`)
        return
      }
      const files = await compileStarknetContracts((line) => process.stderr.write(`${line}\n`))
      process.stdout.write(`${files.map((file) => `contracts/starknet/artifacts/${file}`).join('\n')}\n`)
    })
  contracts
    .command('check')
    .description('fail when the contract artifacts are stale')
    .action(() => {
      const stale = [...staleContractArtifacts(), ...staleStarknetArtifacts()]
      if (stale.length > 0) {
        process.stderr.write(
          `veridis: contract artifacts are stale: ${stale.join('; ')}; run bin/veridis contracts build (--starknet for the Cairo ones)\n`,
        )
        process.exitCode = 1
      }
    })
}
