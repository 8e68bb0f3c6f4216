import type { Command } from 'commander'
import { connectBus } from '../../core/bus/connect.ts'
import { prepareBus } from '../../core/bus/setup.ts'
import { createCommon } from '../../core/context.ts'

export function registerTopicsCommand(program: Command) {
  program
    .command('topics')
    .description('provision topics and register schemas from the declaration (idempotent)')
    .action(async () => {
      const common = createCommon('cli')
      const prepared = await prepareBus(common, connectBus(common))
      process.stdout.write(`${JSON.stringify(prepared.topics, null, 2)}\n`)
    })
}
