import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { NonRetryableError } from '../errors.ts'
import { PROJECT_ROOT } from '../paths.ts'
import { inTransaction, type Pool } from './pool.ts'

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'infra', 'postgres', 'migrations')

// Any constant works; it only has to be the same for every migrating process.
const MIGRATION_LOCK = 0x76657269

/**
 * Applies `infra/postgres/migrations/NNNN_name.sql` in order, each in its own transaction,
 * under an advisory lock so concurrent starters do not race. An applied migration whose
 * file changed afterwards is refused: migrations are append-only.
 */
export async function migrate(pool: Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name))
    .sort()
  const applied: string[] = []
  const lock = await pool.connect()
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    await lock.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await lock.query<{ name: string; checksum: string }>(
      'SELECT name, checksum FROM schema_migrations',
    )
    const done = new Map(rows.map((row) => [row.name, row.checksum]))
    for (const file of files) {
      const sql = readFileSync(path.join(dir, file), 'utf8')
      const checksum = createHash('sha256').update(sql).digest('hex')
      const previous = done.get(file)
      if (previous !== undefined) {
        if (previous !== checksum) {
          throw new NonRetryableError(
            `migration ${file} changed after it was applied; add a new migration instead`,
          )
        }
        continue
      }
      await inTransaction(pool, async (client) => {
        await client.query(sql)
        await client.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [file, checksum])
      })
      applied.push(file)
    }
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined)
    lock.release()
  }
  return applied
}
