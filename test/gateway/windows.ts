import type { Pool } from '../../core/db/pool.ts'

/**
 * Waits, if need be, until the current rate-limit window has at least `neededMs` to run, by
 * Postgres's clock (the one that aligns the shared windows), so what a test counts falls in one
 * window.
 */
export async function freshWindow(pool: Pool, windowMs: number, neededMs: number) {
  const { rows } = await pool.query<{ into: number }>(
    'SELECT ((extract(epoch FROM now()) * 1000) % $1::numeric)::float8 AS into',
    [windowMs],
  )
  const left = windowMs - rows[0]!.into
  if (left < neededMs) await new Promise((resolve) => setTimeout(resolve, left + 100))
}

/** Waits until the window after the current one (by Postgres's clock) has begun. */
export async function nextWindow(pool: Pool, windowMs: number) {
  await freshWindow(pool, windowMs, windowMs)
}
