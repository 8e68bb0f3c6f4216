import type { Logger } from './logging/logger.ts'

type Hook = { name: string; run: () => Promise<void> | void }

/**
 * Ordered shutdown. Components register a hook as they start; on SIGTERM/SIGINT (or a
 * call to `shutdown`) hooks run in reverse order, so what started last stops first. A
 * second signal, or the grace period running out, exits at once: every effect is
 * transactional, so an abrupt exit only means redelivery.
 */
export function createShutdown(options: { logger: Logger; graceMs: number; exit?: (code: number) => void }) {
  const hooks: Hook[] = []
  const controller = new AbortController()
  const exit = options.exit ?? ((code: number) => process.exit(code))
  let finished: Promise<void> | undefined

  const shutdown = (reason: string, exitCode = 0): Promise<void> => {
    if (finished) return finished
    controller.abort(reason)
    options.logger.info({ reason }, 'shutting down')
    const timer = setTimeout(() => {
      options.logger.error({ graceMs: options.graceMs }, 'shutdown grace period exceeded, exiting')
      exit(1)
    }, options.graceMs)
    timer.unref()
    finished = (async () => {
      for (const hook of [...hooks].reverse()) {
        try {
          await hook.run()
        } catch (error) {
          options.logger.error({ err: error, hook: hook.name }, 'shutdown hook failed')
          exitCode = 1
        }
      }
      clearTimeout(timer)
      options.logger.info('stopped')
    })()
    return finished.then(() => exit(exitCode))
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (finished) {
      options.logger.warn({ signal }, 'second signal, exiting now')
      exit(130)
      return
    }
    void shutdown(signal)
  }

  return {
    /** Aborted when shutdown begins; long-running loops watch it. */
    signal: controller.signal,
    onShutdown(name: string, run: Hook['run']) {
      hooks.push({ name, run })
    },
    installSignalHandlers() {
      process.on('SIGTERM', onSignal)
      process.on('SIGINT', onSignal)
    },
    shutdown,
  }
}

export type Shutdown = ReturnType<typeof createShutdown>
