import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto'
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

/**
 * IVs come from CSPRNG bytes drawn 6 KiB at a time, as Node's `randomUUID` draws its own: one
 * `randomBytes` call per value was 4 % of the gateway's CPU (two values a prove command), and
 * the bytes are as random either way. Every refill is a new buffer, never written again, so an
 * IV handed out stays what it was.
 */
const IVS_PER_DRAW = 512
let ivPool = Buffer.alloc(0)
let ivOffset = 0

function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomFillSync(Buffer.allocUnsafeSlow(IV_BYTES * IVS_PER_DRAW))
    ivOffset = 0
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES)
  ivOffset += IV_BYTES
  return iv
}

export function seal(key: Buffer, plaintext: Buffer, context: string): { iv: Buffer; ciphertext: Buffer } {
  const iv = freshIv()
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
