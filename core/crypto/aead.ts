import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { NonRetryableError } from '../errors.ts'

/**
 * AES-256-GCM as every sealed value in the pipeline uses it: a random 12-byte IV, the
 * 16-byte tag appended to the ciphertext, a context string bound as associated data so a
 * ciphertext cannot be moved to another place (subject, field, command) and still open.
 */
export const IV_BYTES = 12
export const TAG_BYTES = 16

export class UndecryptableError extends NonRetryableError {
  override name = 'UndecryptableError'
}

export function seal(key: Buffer, plaintext: Buffer, context: string): { iv: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(context, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  return { iv, ciphertext }
}

export function open(key: Buffer, sealed: { iv: Buffer; ciphertext: Buffer }, context: string): Buffer {
  if (sealed.iv.length !== IV_BYTES) throw new UndecryptableError(`the IV must be ${IV_BYTES} bytes`)
  if (sealed.ciphertext.length < TAG_BYTES) throw new UndecryptableError('ciphertext is too short')
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv)
  decipher.setAAD(Buffer.from(context, 'utf8'))
  decipher.setAuthTag(sealed.ciphertext.subarray(sealed.ciphertext.length - TAG_BYTES))
  try {
    return Buffer.concat([
      decipher.update(sealed.ciphertext.subarray(0, sealed.ciphertext.length - TAG_BYTES)),
      decipher.final(),
    ])
  } catch (cause) {
    throw new UndecryptableError('ciphertext does not authenticate under this key', { cause })
  }
}

/** base64url without padding, as the sealed text formats write bytes. */
export const toBase64Url = (bytes: Buffer) => bytes.toString('base64url')

export function fromBase64Url(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new UndecryptableError(`${what} is not base64url`)
  return Buffer.from(text, 'base64url')
}
