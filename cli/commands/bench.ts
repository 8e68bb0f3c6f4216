import { spawn } from 'node:child_process'
import { type Command, Option } from 'commander'
import { tsCommand } from '../../infra/stack/pipeline.ts'

/**
 * `veridis bench <name>`: the benchmarks are a program of their own (bench/main.ts), run
 * as a child process, so production code never imports bench/ or the test helpers it uses.
 */
export function registerBenchCommand(program: Command) {
  program
    .command('bench')
    .description('run a benchmark against the local stack (see bench/)')
    .argument(
      '<name>',
      'pipeline | lag | gateway | zk | evm | audit | nullifiers | anomaly | guard | chains | starknet | transport | sql-rows',
    )
    .addOption(
      new Option(
        '--events <n>',
        'pipeline: how many events; guard: bridge events; sql-rows: rows per form',
      ).argParser(Number),
    )
    .addOption(new Option('--groups <n>', 'lag: consumer groups').argParser(Number))
    .addOption(new Option('--partitions <n>', 'lag: partitions per group').argParser(Number))
    .addOption(new Option('--rounds <n>', 'rounds to take the median of').argParser(Number))
    .addOption(new Option('--duration <s>', 'gateway: seconds per load run').argParser(Number))
    .addOption(new Option('--connections <n>', 'gateway: concurrent connections').argParser(Number))
    .addOption(
      new Option(
        '--instances <n>',
        'gateway, pipeline: processes to scale out to (1 leaves it out)',
      ).argParser(Number),
    )
    .addOption(
      new Option('--batch <n>', 'zk: proofs per verification batch; sql-rows: rows per statement').argParser(
        Number,
      ),
    )
    .addOption(new Option('--family <name>', 'chains: one family only (cosmos, solana, polkadot, starknet)'))
    .addOption(new Option('--uses <n>', 'chains: nullifier uses per propagation direction').argParser(Number))
    .addOption(new Option('--seed <n>', 'anomaly: seed of the generated labelled set').argParser(Number))
    .addOption(
      new Option(
        '--tracing <mode>',
        'pipeline: spans off, on (to a Jaeger on free ports), or both with the overhead',
      ).choices(['off', 'on', 'both']),
    )
    .addOption(
      new Option(
        '--transport <client>',
        "pipeline: the bus producer's client (the raw baseline is kafkajs either way)",
      ).choices(['kafkajs', 'librdkafka']),
    )
    .action(async (name: string, options: Record<string, number | string | undefined>) => {
      const bench = tsCommand('bench/main.ts', [name, JSON.stringify(options)])
      const child = spawn(bench.command, bench.args, { stdio: 'inherit' })
      const code = await new Promise<number>((resolve) => {
        child.once('close', (exit) => resolve(exit ?? 1))
        child.once('error', () => resolve(127))
      })
      process.exit(code)
    })
}
