import { type Config, loadConfig } from './config/env.ts'
import { createLogger, type Logger } from './logging/logger.ts'
import { createMetrics, type Metrics } from './metrics/registry.ts'
import { createShutdown, type Shutdown } from './shutdown.ts'

/**
 * What every component receives: configuration, a logger, the metrics registry and the
 * shutdown coordinator. Passed into `createX(common, ...)` factories instead of a DI
 * container, the way Ponder does it.
 */
export interface Common {
  readonly service: string
  readonly config: Config
  readonly logger: Logger
  readonly metrics: Metrics
  readonly shutdown: Shutdown
}

export function createCommon(
  service: string,
  options: { config?: Config; exit?: (code: number) => void } = {},
): Common {
  const config = options.config ?? loadConfig()
  const logger = createLogger({ service, level: config.logLevel })
  const shutdownOptions = {
    logger,
    graceMs: config.shutdownGraceMs,
    ...(options.exit ? { exit: options.exit } : {}),
  }
  return {
    service,
    config,
    logger,
    metrics: createMetrics(service),
    shutdown: createShutdown(shutdownOptions),
  }
}
