import { type Command, Option } from 'commander'
import { createCommon } from '../../core/context.ts'
import { startTracing } from '../../core/tracing/tracing.ts'
import { GATEWAY_OPS_PORT } from '../../producers/gateway/routes/ops.ts'

export function registerGatewayCommand(program: Command) {
  program
    .command('gateway')
    .description(
      'run the HTTP command gateway (docs/gateway.md): API and /health; /ready, /metrics, /docs/openapi.json on the ops port',
    )
    .addOption(
      new Option('--port <port>', 'HTTP port (default VERIDIS_GATEWAY_PORT, 18088)').argParser(Number),
    )
    .addOption(new Option('--ops-port <port>', `ops port (default ${GATEWAY_OPS_PORT})`).argParser(Number))
    .action(async (options: { port?: number; opsPort?: number }) => {
      const { runGateway } = await import('../../producers/gateway/index.ts')
      const { createCommandSealerFor } = await import('../../consumers/audit/vault.ts')
      const common = createCommon('gateway')
      common.shutdown.installSignalHandlers()
      await startTracing(common)
      await runGateway(common, createCommandSealerFor, {
        ...(options.port === undefined ? {} : { port: options.port }),
        ...(options.opsPort === undefined ? {} : { opsPort: options.opsPort }),
      })
    })
}
