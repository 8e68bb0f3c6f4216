/** Raised when a wait that should be short was not: the caller names what it waited for. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError'
}

/**
 * `promise`, or a DeadlineError once `ms` have passed. The work itself is not cancelled (most
 * clients offer no way to), but the caller stops waiting for it: a replay must fail, naming
 * what it waited for, rather than hang on a server that accepts and never answers.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what} within ${Math.round(ms / 1000)} s`)), ms)
  })
  try {
    return await Promise.race([promise, expired])
  } finally {
    clearTimeout(timer)
  }
}
