import type { Command } from 'commander'
import { stackDown, stackInstall, stackStatus, stackUp } from '../../infra/stack/stack.ts'
import { localContext, printTable } from '../local-stack.ts'

export function registerStackCommand(program: Command) {
  const stack = program
    .command('stack')
    .description('the local infrastructure: Kafka, schema registry, PostgreSQL')
  stack
    .command('install')
    .description('install what this machine lacks (cached)')
    .action(async () => stackInstall(localContext().context))
  stack
    .command('up')
    .description('start Kafka, the registry and PostgreSQL and apply migrations (idempotent)')
    .action(async () => {
      const { context, logger } = localContext()
      await stackUp(context, logger)
      printTable(await stackStatus(context))
    })
  stack
    .command('down')
    .description('stop the stack')
    .action(async () => stackDown(localContext().context))
  stack
    .command('status')
    .description('show each service')
    .action(async () => {
      const rows = await stackStatus(localContext().context)
      printTable(rows)
      if (rows.some((row) => !row.healthy)) process.exitCode = 3
    })
}
