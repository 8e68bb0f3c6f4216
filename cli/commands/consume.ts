import { Command, Option } from 'commander'
import { CONSUMERS } from '../../consumers/index.ts'
import { createCommon } from '../../core/context.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import { startTracing } from '../../core/tracing/tracing.ts'

export function registerConsumeCommand(program: Command) {
  program
    .command('consume')
    .description('run a consumer')
    .addArgument(new Command().createArgument('<name>', 'consumer').choices(Object.keys(CONSUMERS)))
    .addOption(new Option('--ops-port <port>', 'port for /health, /ready, /metrics').argParser(Number))
    .action(async (name: string, options: { opsPort?: number }) => {
      const entry = CONSUMERS[name]!
      const common = createCommon(`consumer-${name}`)
      common.shutdown.installSignalHandlers()
      await startTracing(common)
      await runConsumerProcess(common, entry.module, { opsPort: options.opsPort ?? entry.opsPort })
    })
}
