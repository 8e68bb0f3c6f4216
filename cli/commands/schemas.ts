import type { Command } from 'commander'

// The code generator loads the TypeScript compiler: imported only when a schemas command
// runs, not by every other command (the pipeline's processes start through this CLI).
export function registerSchemasCommand(program: Command) {
  const schemas = program.command('schemas').description('Avro contracts')
  schemas
    .command('generate')
    .description('regenerate TypeScript types from schemas/*.avsc')
    .action(async () => {
      const { writeGeneratedTypes } = await import('../../schemas/codegen.ts')
      process.stdout.write(`${writeGeneratedTypes().join('\n')}\n`)
    })
  schemas
    .command('check')
    .description('fail when the generated types are stale')
    .action(async () => {
      const { staleGeneratedTypes } = await import('../../schemas/codegen.ts')
      const stale = staleGeneratedTypes()
      if (stale.length > 0) {
        process.stderr.write(
          `veridis: generated types are stale: ${stale.join(', ')}; run bin/veridis schemas generate\n`,
        )
        process.exitCode = 1
      }
    })
}
