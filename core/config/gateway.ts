import { z } from 'zod'
import { commaList, httpUrl, integer, isProduction, type RawEnvironment } from './fields.ts'

export const gatewaySecrets = ['VERIDIS_GATEWAY_JWT_HS256_SECRET'] as const

export const gatewayVariables = {
  // The HTTP gateway (producers/gateway, docs/gateway.md).
  VERIDIS_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  VERIDIS_GATEWAY_PORT: integer(0, 65535).default(18088),
  VERIDIS_GATEWAY_JWT_ISSUER: z.string().min(1).optional(),
  VERIDIS_GATEWAY_JWT_AUDIENCE: z.string().min(1).default('veridis-gateway'),
  VERIDIS_GATEWAY_JWT_HS256_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  VERIDIS_GATEWAY_JWT_RS256_PUBLIC_KEY: z
    .string()
    .regex(/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/, 'must be a PEM SPKI public key')
    .optional(),
  VERIDIS_GATEWAY_RATE_LIMIT: integer(1, 10_000_000).default(600),
  VERIDIS_GATEWAY_RATE_WINDOW_MS: integer(100, 3_600_000).default(60_000),
  VERIDIS_GATEWAY_BODY_LIMIT_BYTES: integer(1_024, 16 * 1024 * 1024).default(64 * 1024),
  VERIDIS_GATEWAY_CORS_ORIGINS: commaList.pipe(z.array(httpUrl)).optional(),
  VERIDIS_GATEWAY_PUBLISH_TIMEOUT_MS: integer(100, 120_000).default(5_000),
  VERIDIS_GATEWAY_LISTENER_STALE_MS: integer(1_000, 86_400_000).default(60_000),
  // Abuse limits (issue 16): slow requests, connection floods, unauthenticated floods.
  VERIDIS_GATEWAY_REQUEST_TIMEOUT_MS: integer(500, 600_000).default(10_000),
  VERIDIS_GATEWAY_MAX_CONNECTIONS: integer(1, 1_000_000).default(2_048),
  VERIDIS_GATEWAY_MAX_CONNECTIONS_PER_SOURCE: integer(1, 1_000_000).default(256),
  VERIDIS_GATEWAY_SOURCE_RATE_LIMIT: integer(1, 100_000_000).default(6_000),
  // Several instances behind one balancer (issue 17): the limits count in Postgres by default, so
  // they hold across instances; `memory` counts per process (one instance, or no database).
  VERIDIS_GATEWAY_RATE_LIMIT_STORE: z.enum(['postgres', 'memory']).default('postgres'),
  // Names this instance in its metrics (`instance_id`); the pod name, say. Default hostname:pid.
  VERIDIS_GATEWAY_INSTANCE_ID: z
    .string()
    .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters without spaces')
    .optional(),
}

type GatewayEnvironment = z.infer<z.ZodObject<typeof gatewayVariables>>

export interface GatewayConfig {
  readonly host: string
  readonly port: number
  readonly jwt: {
    readonly issuer: string | undefined
    readonly audience: string
    /** HS256 shared secret; never logged. */
    readonly hs256Secret: string | undefined
    /** RS256 public key (PEM, SPKI). */
    readonly rs256PublicKey: string | undefined
  }
  /** Requests per caller per window. */
  readonly rateLimit: number
  readonly rateWindowMs: number
  readonly bodyLimitBytes: number
  /** Origins allowed to call from a browser; none when empty. */
  readonly corsOrigins: readonly string[]
  /** How long a request waits for Kafka to acknowledge its command before answering 503. */
  readonly publishTimeoutMs: number
  /** A listener whose state row is older than this is reported stale. */
  readonly listenerStaleMs: number
  /** Headers and body must have arrived within this, or the answer is 408. */
  readonly requestTimeoutMs: number
  /** Open connections at once, in all and from one source address. */
  readonly maxConnections: number
  readonly maxConnectionsPerSource: number
  /** Requests per source address per rate window, counted before authentication. */
  readonly sourceRateLimit: number
  /** Where the rate-limit windows are counted: shared by every instance, or per process. */
  readonly rateLimitStore: 'postgres' | 'memory'
  /** This instance's name in its metrics; undefined: hostname:pid. */
  readonly instanceId: string | undefined
}

export function gatewayProblems(raw: RawEnvironment): string[] {
  // A token anyone could mint is no authentication: production names who issues them.
  if (
    isProduction(raw) &&
    (raw.VERIDIS_GATEWAY_JWT_HS256_SECRET || raw.VERIDIS_GATEWAY_JWT_RS256_PUBLIC_KEY) &&
    !raw.VERIDIS_GATEWAY_JWT_ISSUER
  ) {
    return ['VERIDIS_GATEWAY_JWT_ISSUER: required in production when JWT keys are set']
  }
  return []
}

export function gatewayConfig(env: GatewayEnvironment): GatewayConfig {
  return {
    host: env.VERIDIS_GATEWAY_HOST,
    port: env.VERIDIS_GATEWAY_PORT,
    jwt: {
      issuer: env.VERIDIS_GATEWAY_JWT_ISSUER,
      audience: env.VERIDIS_GATEWAY_JWT_AUDIENCE,
      hs256Secret: env.VERIDIS_GATEWAY_JWT_HS256_SECRET,
      rs256PublicKey: env.VERIDIS_GATEWAY_JWT_RS256_PUBLIC_KEY,
    },
    rateLimit: env.VERIDIS_GATEWAY_RATE_LIMIT,
    rateWindowMs: env.VERIDIS_GATEWAY_RATE_WINDOW_MS,
    bodyLimitBytes: env.VERIDIS_GATEWAY_BODY_LIMIT_BYTES,
    corsOrigins: env.VERIDIS_GATEWAY_CORS_ORIGINS ?? [],
    publishTimeoutMs: env.VERIDIS_GATEWAY_PUBLISH_TIMEOUT_MS,
    listenerStaleMs: env.VERIDIS_GATEWAY_LISTENER_STALE_MS,
    requestTimeoutMs: env.VERIDIS_GATEWAY_REQUEST_TIMEOUT_MS,
    maxConnections: env.VERIDIS_GATEWAY_MAX_CONNECTIONS,
    maxConnectionsPerSource: env.VERIDIS_GATEWAY_MAX_CONNECTIONS_PER_SOURCE,
    sourceRateLimit: env.VERIDIS_GATEWAY_SOURCE_RATE_LIMIT,
    rateLimitStore: env.VERIDIS_GATEWAY_RATE_LIMIT_STORE,
    instanceId: env.VERIDIS_GATEWAY_INSTANCE_ID,
  }
}
