import type { Command } from 'commander'
import { staleGeneratedTypes, writeGeneratedTypes } from '../../schemas/codegen.ts'

export function registerSchemasCommand(program: Command) {
  const schemas = program.command('schemas').description('Avro contracts')
  schemas
    .command('generate')
    .description('regenerate TypeScript types from schemas/*.avsc')
    .action(() => {
      process.stdout.write(`${writeGeneratedTypes().join('\n')}\n`)
    })
  schemas
    .command('check')
    .description('fail when the generated types are stale')
    .action(() => {
      const stale = staleGeneratedTypes()
      if (stale.length > 0) {
        process.stderr.write(
          `veridis: generated types are stale: ${stale.join(', ')}; run bin/veridis schemas generate\n`,
        )
        process.exitCode = 1
      }
    })
}
