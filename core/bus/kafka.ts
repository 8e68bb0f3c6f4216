import { Kafka, type KafkaConfig, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs'
import type { Config } from '../config/env.ts'
import type { Logger } from '../logging/logger.ts'

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
}

/** A kafkajs client whose own logs go through our structured logger. */
export function createKafka(options: { config: Config['kafka']; clientId: string; logger: Logger }): Kafka {
  const logger = options.logger.child({ component: 'kafkajs' })
  const kafkaConfig: KafkaConfig = {
    clientId: options.config.clientId ?? options.clientId,
    brokers: [...options.config.brokers],
    ssl: options.config.ssl,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 100, retries: 8 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...rest } = log
        // Retries are bounded on purpose: a publish that cannot complete must fail to its
        // caller (which retries or answers 503) instead of blocking forever. The warning's
        // risk (sequence numbers reused after a failed request) is handled by the bus
        // producer replacing itself after any failed send; records carry deterministic ids,
        // so a retried publish is recognised downstream.
        if (message.startsWith('Limiting retries for the idempotent producer')) return
        logger[LEVELS[level] ?? 'info'](rest, message)
      },
  }
  if (options.config.sasl) kafkaConfig.sasl = { ...options.config.sasl } as KafkaConfig['sasl']
  return new Kafka(kafkaConfig)
}
