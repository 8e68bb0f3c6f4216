import type { Pool, PoolClient } from '../../core/db/pool.ts'

/**
 * One writer per relayer account and chain at a time, from allocating a nonce until the
 * signed write is recorded and broadcast: otherwise two writes could take the same nonce
 * (one would never land) or leave a gap (every later one would wait forever).
 *
 * In-process, a promise chain per chain queues callers without holding a database
 * connection each; across processes (a scaled-out group, or the same relayer shared by
 * several namespaces on one chain) a Postgres advisory lock does. The lock is a session
 * lock on a dedicated connection: a process killed while holding it loses the connection,
 * and with it the lock.
 */
export function createSenderLock(pool: Pool) {
  const queues = new Map<string, Promise<unknown>>()

  return function withSenderLock<T>(
    chain: string,
    sender: string,
    work: (client: PoolClient) => Promise<T>,
  ): Promise<T> {
    const name = `veridis.nullifier-relayer:${chain}:${sender.toLowerCase()}`
    const run = async () => {
      const client = await pool.connect()
      try {
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [name])
        try {
          return await work(client)
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [name])
        }
      } finally {
        client.release()
      }
    }
    const previous = queues.get(name) ?? Promise.resolve()
    const result = previous.then(run, run)
    const settled = result.catch(() => undefined)
    queues.set(name, settled)
    void settled.then(() => {
      if (queues.get(name) === settled) queues.delete(name)
    })
    return result
  }
}
