import type { Command } from 'commander'

export function registerAlertsCommand(program: Command) {
  program
    .command('alerts')
    .description('security findings on veridis.alert.v1, decoded, oldest first (docs/bridge-guard.md)')
    .option('--follow', 'keep printing new records until interrupted')
    .option('--json', 'one JSON record per line')
    .option('--detection <id>', 'only this detection (e.g. release-without-source)')
    .action(async (options: { follow?: boolean; json?: boolean; detection?: string }) => {
      const { printAlerts } = await import('../../consumers/bridge-guard/alerts-reader.ts')
      await printAlerts({
        follow: options.follow ?? false,
        json: options.json ?? false,
        detection: options.detection,
      })
    })
}
