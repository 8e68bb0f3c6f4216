import type { Command } from 'commander'
import { loadConfig } from '../../core/config/env.ts'
import { createPool } from '../../core/db/pool.ts'
import { createLogger } from '../../core/logging/logger.ts'

const withPool = async <T>(work: (pool: ReturnType<typeof createPool>) => Promise<T>): Promise<T> => {
  const config = loadConfig()
  const pool = createPool(config.database, createLogger({ service: 'cli', level: 'warn' }), 'veridis-apikey')
  try {
    return await work(pool)
  } finally {
    await pool.end()
  }
}

export function registerApiKeyCommand(program: Command) {
  const apikey = program.command('apikey').description("the gateway's API keys (stored hashed; shown once)")
  apikey
    .command('create')
    .description('create a key; it is printed once and cannot be shown again')
    .requiredOption('--name <name>', 'who or what uses the key')
    .requiredOption(
      '--roles <roles>',
      'comma-separated roles (admin, prover, verifier, attester, relayer, ...)',
    )
    .action(async (options: { name: string; roles: string }) => {
      const { createApiKey } = await import('../../producers/gateway/api-keys.ts')
      const roles = options.roles
        .split(',')
        .map((role) => role.trim())
        .filter(Boolean)
      const { key, record } = await withPool((pool) => createApiKey(pool, { name: options.name, roles }))
      process.stderr.write(
        `veridis: API key ${record.keyId} (${record.roles.join(', ')}); store it now, it is not kept\n`,
      )
      process.stdout.write(`${key}\n`)
    })
  apikey
    .command('revoke')
    .description('revoke a key by its id (or the key itself)')
    .argument('<id>', 'key id as listed')
    .action(async (id: string) => {
      const { revokeApiKey } = await import('../../producers/gateway/api-keys.ts')
      if (!(await withPool((pool) => revokeApiKey(pool, id)))) {
        process.stderr.write('veridis: no live key with that id\n')
        process.exitCode = 1
      } else process.stderr.write('veridis: revoked (every gateway refuses it within 5 s)\n')
    })
  apikey
    .command('list')
    .description('list keys: id, name, roles, created, revoked (never the secret)')
    .action(async () => {
      const { listApiKeys } = await import('../../producers/gateway/api-keys.ts')
      for (const key of await withPool((pool) => listApiKeys(pool))) {
        process.stdout.write(
          `${key.keyId}  ${key.revokedAt ? 'revoked' : 'active '}  ${key.createdAt.toISOString()}  [${key.roles.join(',')}]  ${key.name}\n`,
        )
      }
    })
}
