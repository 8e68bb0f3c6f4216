import { type Command, Option } from 'commander'

export function registerBenchCommand(program: Command) {
  program
    .command('bench')
    .description('run a benchmark against the local stack (see bench/)')
    .argument('<name>', 'pipeline | lag | gateway | zk | evm | audit | nullifiers')
    .addOption(new Option('--events <n>', 'pipeline: how many events').argParser(Number))
    .addOption(new Option('--groups <n>', 'lag: consumer groups').argParser(Number))
    .addOption(new Option('--partitions <n>', 'lag: partitions per group').argParser(Number))
    .addOption(new Option('--rounds <n>', 'rounds to take the median of').argParser(Number))
    .addOption(new Option('--duration <s>', 'gateway: seconds per load run').argParser(Number))
    .addOption(new Option('--connections <n>', 'gateway: concurrent connections').argParser(Number))
    .addOption(new Option('--batch <n>', 'zk: proofs per verification batch').argParser(Number))
    .action(
      async (
        name: string,
        options: {
          events?: number
          rounds?: number
          groups?: number
          partitions?: number
          duration?: number
          connections?: number
          batch?: number
        },
      ) => {
        const { runBench } = await import('../../bench/run.ts')
        await runBench(name, options)
        process.exit(0)
      },
    )
}
