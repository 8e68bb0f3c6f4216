import type { z } from 'zod'
import { integer, isProduction, postgresUrl, type RawEnvironment } from './fields.ts'

/** The local stack's role and password (infra/stack/postgres.ts); anyone who read the README knows them. */
const LOCAL_USER = 'veridis'
const LOCAL_PASSWORD = 'veridis'

export const databaseLocalDefaults = {
  VERIDIS_DATABASE_URL: `postgres://${LOCAL_USER}:${LOCAL_PASSWORD}@127.0.0.1:15432/veridis`,
} as const
export const databaseSecrets = ['VERIDIS_DATABASE_URL'] as const

export const databaseVariables = {
  VERIDIS_DATABASE_URL: postgresUrl,
  VERIDIS_DATABASE_POOL_SIZE: integer(2, 200).default(10),
}

type DatabaseEnvironment = z.infer<z.ZodObject<typeof databaseVariables>>

export interface DatabaseConfig {
  readonly url: string
  readonly poolSize: number
}

/** The password a postgres URL carries, decoded; undefined when it has none or does not parse. */
function passwordOf(url: string): string | undefined {
  try {
    const password = new URL(url).password
    return password === '' ? undefined : decodeURIComponent(password)
  } catch {
    return undefined
  }
}

export function databaseProblems(raw: RawEnvironment): string[] {
  const url = raw.VERIDIS_DATABASE_URL
  if (!isProduction(raw) || url === undefined) return []
  // Never quotes the URL: it is a secret even when its password is the public default.
  if (passwordOf(url) === LOCAL_PASSWORD)
    return ["VERIDIS_DATABASE_URL: uses the local stack's default password; production needs its own"]
  return []
}

export function databaseConfig(env: DatabaseEnvironment): DatabaseConfig {
  return { url: env.VERIDIS_DATABASE_URL, poolSize: env.VERIDIS_DATABASE_POOL_SIZE }
}
