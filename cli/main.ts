import { Command } from 'commander'
import { ConfigError } from '../core/config/env.ts'
import { useWasmKeccak } from '../core/crypto/keccak.ts'
import { registerAlertsCommand } from './commands/alerts.ts'
import { registerApiKeyCommand } from './commands/apikey.ts'
import { registerAuditCommand } from './commands/audit.ts'
import { registerBackupCommands } from './commands/backup.ts'
import { registerBenchCommand } from './commands/bench.ts'
import { registerCircuitsCommand } from './commands/circuits.ts'
import { registerConsumeCommand } from './commands/consume.ts'
import { registerContractsCommand } from './commands/contracts.ts'
import { registerDownCommand } from './commands/down.ts'
import { registerGatewayCommand } from './commands/gateway.ts'
import { registerK8sCommand } from './commands/k8s.ts'
import { registerLagCommand } from './commands/lag.ts'
import { registerListenCommand } from './commands/listen.ts'
import { registerMigrateCommand } from './commands/migrate.ts'
import { registerSchemasCommand } from './commands/schemas.ts'
import { registerStackCommand } from './commands/stack.ts'
import { registerStatusCommand } from './commands/status.ts'
import { registerTestCommand } from './commands/test.ts'
import { registerTopicsCommand } from './commands/topics.ts'
import { registerUpCommand } from './commands/up.ts'

/**
 * `veridis`: one entry point for every part of the pipeline, one file per command in
 * commands/ (registered in the order `--help` lists them). Configuration problems end the
 * command with one line per problem and exit code 78 (EX_CONFIG), never a stack trace.
 */
const program = new Command('veridis').description('Veridis event pipeline').showHelpAfterError()

for (const register of [
  registerUpCommand,
  registerDownCommand,
  registerStatusCommand,
  registerStackCommand,
  registerTopicsCommand,
  registerSchemasCommand,
  registerContractsCommand,
  registerCircuitsCommand,
  registerMigrateCommand,
  registerConsumeCommand,
  registerAuditCommand,
  registerAlertsCommand,
  registerListenCommand,
  registerGatewayCommand,
  registerApiKeyCommand,
  registerLagCommand,
  registerBenchCommand,
  registerBackupCommands,
  registerK8sCommand,
  registerTestCommand,
]) {
  register(program)
}

useWasmKeccak()
  .then(() => program.parseAsync(process.argv))
  .catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`veridis: ${error.message}\n`)
      process.exit(78)
    }
    process.stderr.write(`veridis: ${error instanceof Error ? error.message : String(error)}\n`)
    if (process.env.VERIDIS_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`)
    process.exit(1)
  })
