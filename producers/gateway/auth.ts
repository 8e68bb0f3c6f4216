import { createHash, createSecretKey, type KeyObject } from 'node:crypto'
import { decodeProtectedHeader, importSPKI, type JWTPayload, jwtVerify } from 'jose'
import type { Config } from '../../core/config/env.ts'
import type { Pool } from '../../core/db/pool.ts'
import type { IoVeridis } from '../../schemas/generated/veridis.command.v1.ts'
import { createApiKeyVerifier } from './api-keys.ts'
import { isRole, type Role } from './roles.ts'

/** Who is calling, once authenticated. `key` scopes idempotency and rate limits. */
export interface Caller {
  readonly actor: IoVeridis.Actor
  readonly roles: readonly Role[]
  readonly key: string
}

export type Authentication = { ok: true; caller: Caller } | { ok: false; reason: string }

/** The actor recorded for requests that carry no valid credentials. */
export const ANONYMOUS: IoVeridis.Actor = { kind: 'USER', id: 'anonymous' }

const TOKEN_CACHE_MAX = 10_000
const TOKEN_CACHE_MS = 60_000

/**
 * Authentication by JWT (`Authorization: Bearer`, HS256 or RS256, issuer and audience
 * checked) or by API key (`X-API-Key`). Failure reasons name what was wrong, never the
 * credential itself.
 */
export async function createAuthenticator(
  config: Config['gateway'],
  pool: Pool,
  options: { apiKeyCacheMs?: number } = {},
) {
  const keys: { alg: 'HS256' | 'RS256'; key: KeyObject | Awaited<ReturnType<typeof importSPKI>> }[] = []
  if (config.jwt.hs256Secret)
    keys.push({ alg: 'HS256', key: createSecretKey(Buffer.from(config.jwt.hs256Secret, 'utf8')) })
  if (config.jwt.rs256PublicKey)
    keys.push({ alg: 'RS256', key: await importSPKI(config.jwt.rs256PublicKey, 'RS256') })
  const apiKeys = createApiKeyVerifier(pool, { cacheMs: options.apiKeyCacheMs ?? 5_000 })

  // Verified tokens, by their hash, until they expire (at most a minute): a busy client
  // sends the same token thousands of times.
  const tokens = new Map<string, { caller: Caller; until: number }>()

  const verifyJwt = async (token: string): Promise<Authentication> => {
    if (keys.length === 0)
      return { ok: false, reason: 'bearer tokens are not accepted (no JWT key configured)' }
    const digest = createHash('sha256').update(token).digest('base64url')
    const cached = tokens.get(digest)
    if (cached && cached.until > Date.now()) return { ok: true, caller: cached.caller }
    let alg: string | undefined
    try {
      alg = decodeProtectedHeader(token).alg
    } catch {
      return { ok: false, reason: 'bearer token is not a JWT' }
    }
    const entry = keys.find((candidate) => candidate.alg === alg)
    if (!entry) return { ok: false, reason: `JWT algorithm ${String(alg).slice(0, 16)} is not accepted` }
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, entry.key, {
        algorithms: [entry.alg],
        audience: config.jwt.audience,
        ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
        requiredClaims: ['sub', 'exp'],
      }))
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'ERR_JWT_INVALID'
      return { ok: false, reason: `JWT rejected (${code})` }
    }
    const subject = payload.sub
    if (!subject || subject.length > 256) return { ok: false, reason: 'JWT subject is missing or too long' }
    const claimed = Array.isArray(payload.roles) ? payload.roles : []
    const roles = claimed.filter((role): role is Role => typeof role === 'string' && isRole(role))
    const caller: Caller = { actor: { kind: 'USER', id: subject }, roles, key: `USER:${subject}` }
    if (tokens.size >= TOKEN_CACHE_MAX) tokens.clear()
    tokens.set(digest, { caller, until: Math.min((payload.exp ?? 0) * 1000, Date.now() + TOKEN_CACHE_MS) })
    return { ok: true, caller }
  }

  return {
    async authenticate(headers: Record<string, string | string[] | undefined>): Promise<Authentication> {
      const authorization = headers.authorization
      const apiKey = headers['x-api-key']
      if (typeof authorization === 'string' && authorization.length > 0) {
        const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization)
        if (!match) return { ok: false, reason: 'Authorization must be "Bearer <JWT>"' }
        return verifyJwt(match[1]!)
      }
      if (typeof apiKey === 'string' && apiKey.length > 0) {
        const verified = await apiKeys.verify(apiKey)
        if (!verified) return { ok: false, reason: 'API key is unknown, revoked or wrong' }
        return {
          ok: true,
          caller: {
            actor: { kind: 'API_KEY', id: verified.keyId },
            roles: verified.roles,
            key: `API_KEY:${verified.keyId}`,
          },
        }
      }
      return { ok: false, reason: 'credentials missing: send Authorization: Bearer <JWT> or X-API-Key' }
    },
  }
}

export type Authenticator = Awaited<ReturnType<typeof createAuthenticator>>
