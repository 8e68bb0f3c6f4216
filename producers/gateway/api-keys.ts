import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Pool } from '../../core/db/pool.ts'
import { NonRetryableError } from '../../core/errors.ts'
import { isRole, ROLE_NAMES, type Role } from './roles.ts'

/**
 * API keys: `vk_<keyId>_<secret>`. The key id is public (it names the caller in audit
 * facts and logs); the secret is 32 random bytes, shown once at creation and stored only
 * as its SHA-256 — with that much entropy a slow password hash would add nothing.
 */
const KEY_FORMAT = /^vk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/

export interface ApiKeyRecord {
  readonly keyId: string
  readonly name: string
  readonly roles: readonly Role[]
  readonly createdAt: Date
  readonly revokedAt: Date | null
}

const sha256 = (value: string) => createHash('sha256').update(value).digest()

/** Splits a presented key; undefined when it cannot be one of ours. */
export function parseApiKey(presented: string): { keyId: string; secret: string } | undefined {
  const match = KEY_FORMAT.exec(presented)
  return match ? { keyId: match[1]!, secret: match[2]! } : undefined
}

function checkRoles(roles: readonly string[]): Role[] {
  if (roles.length === 0)
    throw new NonRetryableError(`an API key needs at least one role (${ROLE_NAMES.join(', ')})`)
  for (const role of roles) {
    if (!isRole(role)) throw new NonRetryableError(`unknown role '${role}'; known: ${ROLE_NAMES.join(', ')}`)
  }
  return [...new Set(roles)] as Role[]
}

/** Creates a key; the returned `key` is the only time the secret exists outside the caller. */
export async function createApiKey(
  pool: Pool,
  options: { name: string; roles: readonly string[] },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const name = options.name.trim()
  if (!name || name.length > 200)
    throw new NonRetryableError('an API key needs a name of 1 to 200 characters')
  const roles = checkRoles(options.roles)
  const keyId = randomBytes(8).toString('hex')
  const secret = randomBytes(32).toString('base64url')
  const { rows } = await pool.query<{ created_at: Date }>(
    `INSERT INTO gateway_api_keys (key_id, name, roles, secret_sha256) VALUES ($1, $2, $3, $4)
     RETURNING created_at`,
    [keyId, name, roles, sha256(secret)],
  )
  return {
    key: `vk_${keyId}_${secret}`,
    record: { keyId, name, roles, createdAt: rows[0]!.created_at, revokedAt: null },
  }
}

/** Revokes a key by id (or by the whole key); true when a live key was revoked. */
export async function revokeApiKey(pool: Pool, idOrKey: string): Promise<boolean> {
  const keyId = parseApiKey(idOrKey)?.keyId ?? idOrKey
  const { rowCount } = await pool.query(
    'UPDATE gateway_api_keys SET revoked_at = now() WHERE key_id = $1 AND revoked_at IS NULL',
    [keyId],
  )
  return (rowCount ?? 0) > 0
}

export async function listApiKeys(pool: Pool): Promise<ApiKeyRecord[]> {
  const { rows } = await pool.query<{
    key_id: string
    name: string
    roles: string[]
    created_at: Date
    revoked_at: Date | null
  }>('SELECT key_id, name, roles, created_at, revoked_at FROM gateway_api_keys ORDER BY created_at')
  return rows.map((row) => ({
    keyId: row.key_id,
    name: row.name,
    roles: row.roles.filter(isRole),
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  }))
}

interface LiveKey {
  readonly hash: Buffer
  readonly roles: readonly Role[]
}

/** However short the cache time, an unknown id reloads the keys at most this often. */
const MISS_RELOAD_FLOOR_MS = 1_000

/**
 * Verifies presented keys against the live keys, held in memory and reloaded in one query
 * when older than `cacheMs`: a revocation (or a new key) takes effect within that time on
 * every instance, and a busy caller costs no query per request. An id not in memory
 * reloads the keys (a key created since), but at most once per MISS_RELOAD_FLOOR_MS and
 * one load at a time, so guessing ids costs no query each; and since unknown ids are
 * never stored, no flood of them can push a valid key out.
 */
export function createApiKeyVerifier(pool: Pool, options: { cacheMs: number }) {
  let live = new Map<string, LiveKey>()
  let loadedAt = Number.NEGATIVE_INFINITY
  let loading: Promise<void> | undefined

  const reload = () => {
    loading ??= (async () => {
      try {
        const startedAt = Date.now()
        const { rows } = await pool.query<{ key_id: string; secret_sha256: Buffer; roles: string[] }>(
          'SELECT key_id, secret_sha256, roles FROM gateway_api_keys WHERE revoked_at IS NULL',
        )
        live = new Map(
          rows.map((row) => [row.key_id, { hash: row.secret_sha256, roles: row.roles.filter(isRole) }]),
        )
        loadedAt = startedAt
      } finally {
        loading = undefined
      }
    })()
    return loading
  }

  return {
    /** The key's id and roles, or undefined when the key is unknown, revoked or wrong. */
    async verify(presented: string): Promise<{ keyId: string; roles: readonly Role[] } | undefined> {
      const parsed = parseApiKey(presented)
      if (!parsed) return undefined
      if (Date.now() - loadedAt >= options.cacheMs) await reload()
      let entry = live.get(parsed.keyId)
      if (!entry && Date.now() - loadedAt >= Math.min(options.cacheMs, MISS_RELOAD_FLOOR_MS)) {
        await reload()
        entry = live.get(parsed.keyId)
      }
      if (!entry) return undefined
      const hash = sha256(parsed.secret)
      if (hash.length !== entry.hash.length || !timingSafeEqual(hash, entry.hash)) return undefined
      return { keyId: parsed.keyId, roles: entry.roles }
    },
  }
}
