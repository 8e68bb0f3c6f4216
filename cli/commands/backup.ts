import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { connectBus } from '../../core/bus/connect.ts'
import { createCommon } from '../../core/context.ts'
import { createPool } from '../../core/db/pool.ts'
import { createBackup, RESTORE_PARTS, type RestorePart, restoreBackup } from '../../infra/ops/backup.ts'
import { READ_MODELS, rebuildReadModel } from '../../infra/ops/rebuild.ts'

/**
 * The passphrase that encrypts backups: a file (`--passphrase-file`, first line) or
 * VERIDIS_BACKUP_PASSPHRASE. Never an argument (it would show in the process list), never printed.
 */
function passphrase(file: string | undefined): string {
  const value = file
    ? (readFileSync(file, 'utf8').split('\n')[0] ?? '')
    : process.env.VERIDIS_BACKUP_PASSPHRASE
  if (!value) throw new Error('no backup passphrase: set VERIDIS_BACKUP_PASSPHRASE or pass --passphrase-file')
  return value
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)

export function registerBackupCommands(program: Command) {
  program
    .command('backup')
    .description(
      'encrypted backup: database, topic settings and group offsets, registry subjects, local secrets',
    )
    .argument('<file>', 'where to write it (0600)')
    .option(
      '--passphrase-file <file>',
      'file whose first line is the passphrase (else VERIDIS_BACKUP_PASSPHRASE)',
    )
    .action(async (file: string, options: { passphraseFile?: string }) => {
      const common = createCommon('backup')
      const bus = connectBus(common)
      print(
        await createBackup(common.config, bus, {
          file: path.resolve(file),
          passphrase: passphrase(options.passphraseFile),
        }),
      )
    })

  program
    .command('restore')
    .description('put a backup back, then replay the read models from Kafka (docs/operations.md)')
    .argument('<file>', 'a file written by `veridis backup`')
    .option(
      '--passphrase-file <file>',
      'file whose first line is the passphrase (else VERIDIS_BACKUP_PASSPHRASE)',
    )
    .option('--only <parts>', `comma-separated subset of ${RESTORE_PARTS.join(',')}`)
    .option('--no-replay', 'leave the read models as restored (no rebuild from the topics)')
    .action(async (file: string, options: { passphraseFile?: string; only?: string; replay: boolean }) => {
      const parts = options.only
        ? options.only.split(',').map((part) => {
            if (!(RESTORE_PARTS as readonly string[]).includes(part))
              throw new Error(`unknown part '${part}'`)
            return part as RestorePart
          })
        : [...RESTORE_PARTS]
      const common = createCommon('restore')
      const bus = connectBus(common)
      const restored = await restoreBackup(common.config, bus, {
        file: path.resolve(file),
        passphrase: passphrase(options.passphraseFile),
        parts,
      })
      const rebuilt: unknown[] = []
      if (options.replay && parts.includes('database')) {
        const pool = createPool(common.config.database, common.logger, 'veridis-restore')
        try {
          for (const name of Object.keys(READ_MODELS))
            rebuilt.push(await rebuildReadModel(common.config, bus, pool, name))
        } finally {
          await pool.end()
        }
      }
      print({ restored, rebuilt })
    })

  program
    .command('rebuild')
    .description(
      `rebuild a read model from its topics (its consumer stopped): ${Object.entries(READ_MODELS)
        .map(([name, model]) => `${name}: ${model.description}`)
        .join('; ')}`,
    )
    .argument('<read-model>', Object.keys(READ_MODELS).join(' | '))
    .action(async (name: string) => {
      const common = createCommon('rebuild')
      const bus = connectBus(common)
      const pool = createPool(common.config.database, common.logger, 'veridis-rebuild')
      try {
        print(await rebuildReadModel(common.config, bus, pool, name))
      } finally {
        await pool.end()
      }
    })
}
