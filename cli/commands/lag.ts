import { type Command, Option } from 'commander'
import { createCommon } from '../../core/context.ts'
import { LAG_MONITOR_PORT } from '../../infra/stack/pipeline.ts'
import { registerDashboard } from '../../monitor/dashboard/assets.ts'
import { runLagMonitor } from '../../monitor/lag/process.ts'

export function registerLagCommand(program: Command) {
  program
    .command('lag')
    .description('run the consumer-lag monitor: /metrics, /api/v1/lag and the dashboard at /')
    .addOption(new Option('--port <port>', 'HTTP port').argParser(Number))
    .action(async (options: { port?: number }) => {
      const common = createCommon('lag-monitor')
      common.shutdown.installSignalHandlers()
      await runLagMonitor(common, { port: options.port ?? LAG_MONITOR_PORT, dashboard: registerDashboard })
    })
}
