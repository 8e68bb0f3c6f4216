import { type Logger, pino } from 'pino'

export type { Logger }

/**
 * Structured JSON logs on stdout. Keys that can carry secrets are censored wherever they
 * appear, as a second line of defence behind never logging them in the first place.
 */
export function createLogger(options: { service: string; level: string }): Logger {
  return pino({
    name: options.service,
    level: options.level,
    base: { service: options.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'password',
        '*.password',
        'secret',
        '*.secret',
        'token',
        '*.token',
        'authorization',
        '*.authorization',
        '*.headers.authorization',
        'apiKey',
        '*.apiKey',
        'databaseUrl',
        '*.databaseUrl',
        'sasl',
        '*.sasl',
      ],
      censor: '[redacted]',
    },
  })
}
