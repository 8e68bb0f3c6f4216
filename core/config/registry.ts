import { z } from 'zod'
import { httpUrl, type RawEnvironment } from './fields.ts'

export const registryLocalDefaults = {
  VERIDIS_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v7',
} as const
export const registrySecrets = ['VERIDIS_SCHEMA_REGISTRY_PASSWORD'] as const

export const registryVariables = {
  VERIDIS_SCHEMA_REGISTRY_URL: httpUrl,
  VERIDIS_SCHEMA_REGISTRY_USERNAME: z.string().min(1).optional(),
  VERIDIS_SCHEMA_REGISTRY_PASSWORD: z.string().min(1).optional(),
}

type RegistryEnvironment = z.infer<z.ZodObject<typeof registryVariables>>

export interface SchemaRegistryConfig {
  readonly url: string
  readonly auth: { username: string; password: string } | undefined
}

export function registryProblems(raw: RawEnvironment): string[] {
  const problems: string[] = []
  if (raw.VERIDIS_SCHEMA_REGISTRY_USERNAME && !raw.VERIDIS_SCHEMA_REGISTRY_PASSWORD)
    problems.push(
      'VERIDIS_SCHEMA_REGISTRY_PASSWORD: missing secret (VERIDIS_SCHEMA_REGISTRY_USERNAME is set)',
    )
  if (raw.VERIDIS_SCHEMA_REGISTRY_PASSWORD && !raw.VERIDIS_SCHEMA_REGISTRY_USERNAME)
    problems.push('VERIDIS_SCHEMA_REGISTRY_USERNAME: missing (VERIDIS_SCHEMA_REGISTRY_PASSWORD is set)')
  return problems
}

export function registryConfig(env: RegistryEnvironment): SchemaRegistryConfig {
  return {
    url: env.VERIDIS_SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    auth:
      env.VERIDIS_SCHEMA_REGISTRY_USERNAME && env.VERIDIS_SCHEMA_REGISTRY_PASSWORD
        ? { username: env.VERIDIS_SCHEMA_REGISTRY_USERNAME, password: env.VERIDIS_SCHEMA_REGISTRY_PASSWORD }
        : undefined,
  }
}
