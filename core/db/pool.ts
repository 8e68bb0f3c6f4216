import pg from 'pg'
import type { Config } from '../config/env.ts'
import type { Logger } from '../logging/logger.ts'

export type Pool = pg.Pool
export type PoolClient = pg.PoolClient

// int8 (bigint) columns come back as strings by default; counts and block numbers here fit
// in a double, offsets are kept as text.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value))

export function createPool(config: Config['database'], logger: Logger, applicationName = 'veridis'): Pool {
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A statement stuck behind a lock must not outlive the consumer's session in its group.
    statement_timeout: 20_000,
  })
  // An idle client losing its connection must not crash the process; the next query retries.
  pool.on('error', (error) =>
    logger.warn({ err: { message: error.message } }, 'idle database connection lost'),
  )
  return pool
}

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw error
  } finally {
    client.release()
  }
}
