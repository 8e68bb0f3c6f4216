import { z } from 'zod'

/** Field types the configuration sections share; each names the rule in its message, never the value. */

export const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port')
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
export const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' })
export const integer = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min).max(max)
export const flag = z
  .enum(['true', 'false', '1', '0'])
  .transform((value) => value === 'true' || value === '1')

/** A comma-separated list, blanks dropped. */
export const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean),
)

/** The variables as given: VERIDIS_* only, empty values treated as unset. */
export type RawEnvironment = Readonly<Record<string, string | undefined>>

export const isProduction = (raw: RawEnvironment) => raw.VERIDIS_ENV === 'production'

/** `true`/`1` as the flag schema reads it, on a raw value. */
export const rawFlag = (value: string | undefined) => ['true', '1'].includes(value ?? '')
