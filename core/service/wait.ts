import { backoffDelay, sleep } from '../bus/retry.ts'
import { describeError, isTransient } from '../errors.ts'
import type { Logger } from '../logging/logger.ts'

/**
 * Retries `attempt` while it fails transiently, with backoff, logging what it waits for
 * at most every few seconds. A non-transient failure, or running out of time, throws.
 */
export async function waitFor<T>(
  what: string,
  attempt: () => Promise<T>,
  options: { logger: Logger; signal?: AbortSignal; timeoutMs?: number },
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  let lastLog = 0
  for (let failures = 1; ; failures++) {
    try {
      return await attempt()
    } catch (error) {
      if (!isTransient(error) || Date.now() > deadline || options.signal?.aborted) throw error
      if (Date.now() - lastLog > 5_000) {
        options.logger.warn({ err: describeError(error) }, `waiting for ${what}`)
        lastLog = Date.now()
      }
      await sleep(backoffDelay(failures, 200, 3_000), options.signal)
    }
  }
}
