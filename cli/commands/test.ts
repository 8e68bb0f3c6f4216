import type { Command } from 'commander'
import { runTests } from '../test.ts'

export function registerTestCommand(program: Command) {
  program
    .command('test')
    .description('run every test against the real local stack (starts it if needed)')
    .allowUnknownOption()
    .argument('[vitest args...]')
    .action(async (args: string[]) => {
      process.exitCode = await runTests(args)
    })
}
