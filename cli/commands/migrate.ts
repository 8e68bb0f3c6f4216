import type { Command } from 'commander'
import { loadConfig } from '../../core/config/env.ts'
import { migrate } from '../../core/db/migrate.ts'
import { createPool } from '../../core/db/pool.ts'
import { createLogger } from '../../core/logging/logger.ts'

export function registerMigrateCommand(program: Command) {
  program
    .command('migrate')
    .description('apply database migrations')
    .action(async () => {
      const config = loadConfig()
      const logger = createLogger({ service: 'cli', level: config.logLevel })
      const pool = createPool(config.database, logger, 'veridis-migrate')
      try {
        process.stdout.write(`${(await migrate(pool)).join('\n') || 'up to date'}\n`)
      } finally {
        await pool.end()
      }
    })
}
