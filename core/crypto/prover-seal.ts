import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto'
import { fromBase64Url, IV_BYTES, open, seal, toBase64Url, UndecryptableError } from './aead.ts'

/**
 * Prove inputs as they travel on the command topic: readable by the prover only. Each
 * signal's values are sealed to the prover's X25519 public key (an ECIES construction from
 * standard parts, the shape of HPKE's base mode), replacing the signal's array with one
 * string (docs/zk.md, "Sealed inputs"):
 *
 *     vprv1.<ephemeralPublicKey>.<iv>.<ciphertext>
 *
 * - `ephemeralPublicKey`: an X25519 public key, 32 raw bytes, base64url. A writer keeps one
 *   pair for a short while (`createProveInputSealer`: at most a second and 4,096 commands),
 *   shared by the values it seals meanwhile (as HPKE seals several messages in one context):
 *   one key agreement a second instead of one per command, which was nearly half of the gateway's
 *   CPU; each value still has its own random IV and associated data naming its command and
 *   signal. A reader treats every string alone, so a value with an ephemeral key of its own
 *   opens the same way.
 * - key: HKDF-SHA256(ikm = X25519(ephemeral private, prover public),
 *   salt = ephemeral public ‖ prover public (raw, 32 + 32 bytes), info = "veridis.prover.v1"),
 *   32 bytes.
 * - `iv`, `ciphertext`: AES-256-GCM as for subject values (12-byte IV, tag appended,
 *   base64url); the plaintext is the signal's values as a JSON array of decimal strings,
 *   e.g. `["123","456"]`.
 * - associated data: UTF-8 of `vprv1.<commandId>.<signal>`.
 *
 * Signal names stay in clear: they say which circuit inputs were given, not what they are.
 */
export const PROVER_SEAL_VERSION = 'vprv1'
const HKDF_INFO = Buffer.from('veridis.prover.v1', 'utf8')

/** The 32 raw bytes of an X25519 public key. */
export function rawPublicKey(publicKey: KeyObject): Buffer {
  const known = rawOfKnownKey.get(publicKey)
  if (known) return known
  const raw = exportRawPublicKey(publicKey)
  rawOfKnownKey.set(publicKey, raw)
  return raw
}

// The prover's key is one object for the life of a writer: exported once, not per value.
const rawOfKnownKey = new WeakMap<KeyObject, Buffer>()

function exportRawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' })
  if (jwk.crv !== 'X25519' || typeof jwk.x !== 'string') throw new Error('not an X25519 public key')
  return Buffer.from(jwk.x, 'base64url')
}

function publicKeyOfRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new UndecryptableError('the ephemeral public key must be 32 bytes')
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(raw) }, format: 'jwk' })
}

function derivedKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), HKDF_INFO, 32))
}

const associatedData = (commandId: string, signal: string) => `${PROVER_SEAL_VERSION}.${commandId}.${signal}`

/** A fresh ephemeral key pair agreed with the prover's key: what values sealed together share. */
function sealingContext(proverPublicKey: KeyObject) {
  const ephemeral = generateKeyPairSync('x25519')
  const ephemeralRaw = exportRawPublicKey(ephemeral.publicKey)
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: proverPublicKey })
  const key = derivedKey(shared, ephemeralRaw, rawPublicKey(proverPublicKey))
  return (values: readonly string[], place: { commandId: string; signal: string }) => {
    const { iv, ciphertext } = seal(
      key,
      Buffer.from(JSON.stringify(values), 'utf8'),
      associatedData(place.commandId, place.signal),
    )
    return `${PROVER_SEAL_VERSION}.${toBase64Url(ephemeralRaw)}.${toBase64Url(iv)}.${toBase64Url(ciphertext)}`
  }
}

/** One value sealed under an ephemeral key pair of its own. */
export function sealForProver(
  proverPublicKey: KeyObject,
  values: readonly string[],
  place: { commandId: string; signal: string },
): string {
  return sealingContext(proverPublicKey)(values, place)
}

export function openForProver(
  proverPrivateKey: KeyObject,
  proverPublicKey: KeyObject,
  sealed: string,
  place: { commandId: string; signal: string },
): string[] {
  const parts = sealed.split('.')
  if (parts.length !== 4 || parts[0] !== PROVER_SEAL_VERSION)
    throw new UndecryptableError(`not a ${PROVER_SEAL_VERSION} sealed value`)
  const ephemeralRaw = fromBase64Url(parts[1] ?? '', 'the ephemeral public key')
  const iv = fromBase64Url(parts[2] ?? '', 'the IV')
  if (iv.length !== IV_BYTES) throw new UndecryptableError(`the IV must be ${IV_BYTES} bytes`)
  const shared = diffieHellman({ privateKey: proverPrivateKey, publicKey: publicKeyOfRaw(ephemeralRaw) })
  const key = derivedKey(shared, ephemeralRaw, rawPublicKey(proverPublicKey))
  const plaintext = open(
    key,
    { iv, ciphertext: fromBase64Url(parts[3] ?? '', 'the ciphertext') },
    associatedData(place.commandId, place.signal),
  )
  let values: unknown
  try {
    values = JSON.parse(plaintext.toString('utf8'))
  } catch {
    throw new UndecryptableError('the sealed value is not a JSON array')
  }
  if (!Array.isArray(values) || !values.every((value) => typeof value === 'string'))
    throw new UndecryptableError('the sealed value is not a JSON array of strings')
  return values
}

type ProveInputs = Readonly<Record<string, readonly string[]>>

function sealEachSignal(
  sealValues: ReturnType<typeof sealingContext>,
  commandId: string,
  inputs: ProveInputs,
): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(inputs).map(([signal, values]) => [signal, [sealValues(values, { commandId, signal })]]),
  )
}

/** Every signal sealed on its own — one `vprv1` string per signal — under an ephemeral key pair of this command's own. */
export function sealProveInputs(
  proverPublicKey: KeyObject,
  commandId: string,
  inputs: ProveInputs,
): Record<string, string[]> {
  return sealEachSignal(sealingContext(proverPublicKey), commandId, inputs)
}

/**
 * How long a writer keeps one ephemeral key pair. A second bounds what its private key, held in
 * the writer's memory, could open if taken (what the writer sealed in that second, which it had
 * in clear anyway), and how many commands on the topic visibly share a writer (as their producer
 * id and timestamps already show). 4,096 commands of a few signals keep one AES-GCM key's random
 * 96-bit IVs far below the 2^32 values NIST SP 800-38D allows.
 */
const EPHEMERAL_KEY_RENEWAL = { maxCommands: 4_096, maxAgeMs: 1_000 } as const

/**
 * `sealProveInputs` for a writer of many commands: each command's signals sealed as there, the
 * ephemeral key pair and its agreed key renewed per `EPHEMERAL_KEY_RENEWAL` instead of per command.
 */
export function createProveInputSealer(proverPublicKey: KeyObject, options: { now?: () => number } = {}) {
  const { maxCommands, maxAgeMs } = EPHEMERAL_KEY_RENEWAL
  const now = options.now ?? Date.now
  let context: ReturnType<typeof sealingContext> | undefined
  let madeAt = 0
  let commands = 0
  return (commandId: string, inputs: ProveInputs): Record<string, string[]> => {
    const time = now()
    if (!context || commands >= maxCommands || time - madeAt >= maxAgeMs || time < madeAt) {
      context = sealingContext(proverPublicKey)
      madeAt = time
      commands = 0
    }
    commands += 1
    return sealEachSignal(context, commandId, inputs)
  }
}

/** Signals whose values are not one sealed string: plain text the prover refuses. */
export function unsealedSignals(inputs: Readonly<Record<string, readonly string[]>>): string[] {
  return Object.entries(inputs)
    .filter(([, values]) => values.length !== 1 || !values[0]?.startsWith(`${PROVER_SEAL_VERSION}.`))
    .map(([signal]) => signal)
    .sort()
}

export function openProveInputs(
  keys: { privateKey: KeyObject; publicKey: KeyObject },
  commandId: string,
  inputs: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(inputs).map(([signal, values]) => [
      signal,
      openForProver(keys.privateKey, keys.publicKey, values[0] ?? '', { commandId, signal }),
    ]),
  )
}
