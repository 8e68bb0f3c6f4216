import { createHash, createHmac } from 'node:crypto'
import path from 'node:path'
import type { Config } from '../../core/config/env.ts'
import { IV_BYTES, open, seal, UndecryptableError } from '../../core/crypto/aead.ts'
import { localSecret } from '../../core/local-secrets.ts'

/**
 * The audit service's two secrets. The HMAC key turns subject ids into pseudonyms that only
 * this service can compute (a plain hash of an e-mail address is reversed by guessing);
 * the master key wraps the per-subject data keys. Neither leaves the process: they are
 * not logged, not written to a topic, not stored in Postgres.
 */
export interface AuditKeys {
  readonly hmacKey: Buffer
  readonly masterKey: Buffer
}

/** From the environment, or (development and tests) from generated files under VERIDIS_HOME. */
export function loadAuditKeys(config: Config): AuditKeys {
  const secretsDir = path.join(config.home, 'secrets')
  const material = (value: string | undefined, name: string) =>
    // A secret of any length becomes a 32-byte key; the name keeps the two keys apart.
    createHash('sha256')
      .update(`veridis.audit.${name}\u0000`)
      .update(value ?? localSecret(secretsDir, `audit-${name}`))
      .digest()
  return {
    hmacKey: material(config.audit.hmacKey, 'hmac-key'),
    masterKey: material(config.audit.masterKey, 'master-key'),
  }
}

/** The subject's pseudonym on the audit trail: hex HMAC-SHA256 of its id. */
export function subjectHashOf(keys: AuditKeys, subjectId: string): string {
  return createHmac('sha256', keys.hmacKey).update(subjectId, 'utf8').digest('hex')
}

// The AES-256-GCM primitives are shared with the sealed topic formats (core/crypto).
export { open, seal, UndecryptableError }

/** A wrapped data key: iv (12) ‖ ciphertext+tag (48), bound to the subject it belongs to. */
export function wrapDataKey(keys: AuditKeys, subjectHash: string, dataKey: Buffer): Buffer {
  const { iv, ciphertext } = seal(keys.masterKey, dataKey, `data-key:${subjectHash}`)
  return Buffer.concat([iv, ciphertext])
}

export function unwrapDataKey(keys: AuditKeys, subjectHash: string, wrapped: Buffer): Buffer {
  return open(
    keys.masterKey,
    { iv: wrapped.subarray(0, IV_BYTES), ciphertext: wrapped.subarray(IV_BYTES) },
    `data-key:${subjectHash}`,
  )
}

/** Below the BN254 scalar field: 248 bits of a hex digest. */
export function fieldOfHex(hex: string): bigint {
  return BigInt(`0x${hex}`) >> 8n
}

/** The data key as the erasure circuit sees it: a field element derived from (not equal to) the key. */
export function dataKeyField(dataKey: Buffer): bigint {
  return fieldOfHex(
    createHash('sha256').update('veridis.erasure.data-key\u0000').update(dataKey).digest('hex'),
  )
}
