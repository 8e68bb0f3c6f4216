import { type Command, Option } from 'commander'
import { createCommon } from '../../core/context.ts'
import { createPool } from '../../core/db/pool.ts'
import { LAG_MONITOR_PORT } from '../../infra/stack/pipeline.ts'
import { registerDashboard } from '../../monitor/dashboard/assets.ts'
import { runLagMonitor } from '../../monitor/lag/process.ts'
import { registerSecurityPage } from '../../monitor/security/page.ts'

export function registerLagCommand(program: Command) {
  program
    .command('lag')
    .description(
      'run the consumer-lag monitor: /metrics, /api/v1/lag and the dashboard at /; the bridge security page at /security',
    )
    .addOption(new Option('--port <port>', 'HTTP port').argParser(Number))
    .action(async (options: { port?: number }) => {
      const common = createCommon('lag-monitor')
      common.shutdown.installSignalHandlers()
      // Only the security page uses the database; the lag monitor's readiness does not wait on it.
      const pool = createPool(common.config.database, common.logger, 'veridis-lag-monitor')
      common.shutdown.onShutdown('database pool', () => pool.end())
      await runLagMonitor(common, {
        port: options.port ?? LAG_MONITOR_PORT,
        dashboard: (app) => {
          registerDashboard(app)
          registerSecurityPage(app, { pool, logger: common.logger })
        },
      })
    })
}
