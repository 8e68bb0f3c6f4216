import type { Command } from 'commander'
import { stackDown, stackInstall, stackStatus, stackUp } from '../../infra/stack/stack.ts'
import { localContext, parseBrokerCount, printTable, useLocalBrokers } from '../local-stack.ts'

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
    .description('start the infrastructure and the local chain nodes, and apply migrations (idempotent)')
    .option('--without <node...>', 'chain nodes to leave stopped and unbuilt (e.g. solana-test-validator)')
    .option(
      '--brokers <n>',
      'run Kafka as a cluster of n KRaft nodes (19092, 19094, …), topics replicated',
      parseBrokerCount,
    )
    .action(async (options: { without?: string[]; brokers?: number }) => {
      if (options.brokers !== undefined) useLocalBrokers(options.brokers)
      const { context, logger } = localContext()
      await stackUp(context, logger, { leaveStopped: new Set(options.without ?? []) })
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
