import { fromBase64Url, IV_BYTES, open, seal, toBase64Url, UndecryptableError } from './aead.ts'

/**
 * A data subject's personal data as it travels on a topic: encrypted under the subject's own
 * data key, so destroying that key (erasure) makes every copy on every topic noise. The
 * text format, which any writer can produce (docs/audit.md, "Sealed fields"):
 *
 *     vsub1.<keyId>.<iv>.<ciphertext>
 *
 * - `keyId`: the subject's pseudonym, 64 lower-case hex (HMAC-SHA256 of the subject id
 *   under the audit HMAC key): which data key to use, and who the data is about.
 * - `iv`: 12 random bytes, base64url without padding.
 * - `ciphertext`: AES-256-GCM of the UTF-8 value under the subject's 32-byte data key, the
 *   16-byte tag appended, base64url without padding.
 * - associated data: the UTF-8 bytes of `vsub1.<keyId>.<commandId>.<field>`, e.g.
 *   `vsub1.ab12….6f1c….RequestErasureCommand.subjectId`: a sealed value opens only in the
 *   command and field it was written for.
 *
 * `vsub1.<keyId>` alone (no IV, no ciphertext) names a subject whose key is already
 * destroyed: the value is withheld, since it can no longer be sealed for anyone.
 */
export const SUBJECT_SEAL_VERSION = 'vsub1'

export type SubjectField =
  | 'RegisterAttestationCommand.subjectId'
  | 'RequestErasureCommand.subjectId'
  | 'RequestErasureCommand.reason'

export interface SubjectKey {
  /** The subject's pseudonym (hex HMAC-SHA256 of its id). */
  readonly keyId: string
  /** The subject's 32-byte data key; null once the subject is erased. */
  readonly dataKey: Buffer | null
}

export type ParsedSubjectSeal =
  | { readonly keyId: string; readonly withheld: false; readonly iv: Buffer; readonly ciphertext: Buffer }
  | { readonly keyId: string; readonly withheld: true }

const KEY_ID = /^[0-9a-f]{64}$/

const associatedData = (keyId: string, commandId: string, field: SubjectField) =>
  `${SUBJECT_SEAL_VERSION}.${keyId}.${commandId}.${field}`

export function sealSubjectValue(
  key: SubjectKey,
  value: string,
  place: { commandId: string; field: SubjectField },
): string {
  if (!KEY_ID.test(key.keyId)) throw new Error('a subject key id is 64 lower-case hex characters')
  if (!key.dataKey) return `${SUBJECT_SEAL_VERSION}.${key.keyId}`
  const { iv, ciphertext } = seal(
    key.dataKey,
    Buffer.from(value, 'utf8'),
    associatedData(key.keyId, place.commandId, place.field),
  )
  return `${SUBJECT_SEAL_VERSION}.${key.keyId}.${toBase64Url(iv)}.${toBase64Url(ciphertext)}`
}

/** True when the text claims to be a sealed subject value (it may still fail to parse or open). */
export const looksSealedForSubject = (text: string) => text.startsWith(`${SUBJECT_SEAL_VERSION}.`)

/** Parses a sealed value; throws UndecryptableError (naming no content) when it is malformed. */
export function parseSubjectSeal(text: string): ParsedSubjectSeal {
  const parts = text.split('.')
  if (parts[0] !== SUBJECT_SEAL_VERSION || (parts.length !== 2 && parts.length !== 4))
    throw new UndecryptableError(`not a ${SUBJECT_SEAL_VERSION} sealed value`)
  const keyId = parts[1] ?? ''
  if (!KEY_ID.test(keyId)) throw new UndecryptableError('the key id is not 64 lower-case hex characters')
  if (parts.length === 2) return { keyId, withheld: true }
  const iv = fromBase64Url(parts[2] ?? '', 'the IV')
  if (iv.length !== IV_BYTES) throw new UndecryptableError(`the IV must be ${IV_BYTES} bytes`)
  return { keyId, withheld: false, iv, ciphertext: fromBase64Url(parts[3] ?? '', 'the ciphertext') }
}

export function openSubjectValue(
  dataKey: Buffer,
  sealed: Extract<ParsedSubjectSeal, { withheld: false }>,
  place: { commandId: string; field: SubjectField },
): string {
  return open(dataKey, sealed, associatedData(sealed.keyId, place.commandId, place.field)).toString('utf8')
}
