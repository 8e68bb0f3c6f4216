import { type Command, Option } from 'commander'
import { createCommon } from '../../core/context.ts'
import { startTracing } from '../../core/tracing/tracing.ts'
import { runChainListener } from '../../producers/chains/common/process.ts'
import { CHAIN_FAMILIES, chainFamily } from '../../producers/chains/families.ts'

export function registerListenCommand(program: Command) {
  program
    .command('listen')
    .description(
      'follow the chains of one family and publish their Veridis events (every configured chain by default)',
    )
    .argument('<family>', `chain family: ${Object.keys(CHAIN_FAMILIES).join(', ')}`)
    .addOption(new Option('--chain <caip2...>', 'only these chains, e.g. eip155:31337'))
    .addOption(new Option('--ops-port <port>', 'port for /health, /ready, /metrics').argParser(Number))
    .action(async (familyName: string, options: { chain?: string[]; opsPort?: number }) => {
      const family = chainFamily(familyName)
      const common = createCommon(`listener-${family.family}`)
      common.shutdown.installSignalHandlers()
      await startTracing(common)
      await runChainListener(common, family, {
        chains: options.chain ?? [],
        ...(options.opsPort === undefined ? {} : { opsPort: options.opsPort }),
      })
    })
}
