import {
  createCipheriv,
  createHmac,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  randomUUID,
} from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { UndecryptableError } from './aead.ts'
import {
  createProveInputSealer,
  openForProver,
  openProveInputs,
  rawPublicKey,
  sealForProver,
  sealProveInputs,
} from './prover-seal.ts'
import { openSubjectValue, parseSubjectSeal, sealSubjectValue } from './subject-seal.ts'

/**
 * The sealed formats as an outside writer would produce them from docs/audit.md ("Sealed
 * fields") and docs/zk.md ("Sealed inputs"), with bare primitives and none of this
 * project's sealing code: what the pipeline opens is what the documents describe.
 */
const b64url = (bytes: Buffer) => bytes.toString('base64url')

function gcm(key: Buffer, plaintext: string, associatedData: string) {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(associatedData, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
  return `${b64url(iv)}.${b64url(body)}`
}

describe('sealed subject values (vsub1)', () => {
  const hmacKey = randomBytes(32)
  const dataKey = randomBytes(32)
  const subjectId = 'alice@example.com'
  const keyId = createHmac('sha256', hmacKey).update(subjectId, 'utf8').digest('hex')
  const commandId = randomUUID()
  const field = 'RequestErasureCommand.subjectId' as const

  test('behavior: a value written from the documented steps opens with the subject key', () => {
    const written = `vsub1.${keyId}.${gcm(dataKey, subjectId, `vsub1.${keyId}.${commandId}.${field}`)}`
    const parsed = parseSubjectSeal(written)
    expect(parsed.keyId).toBe(keyId)
    if (parsed.withheld) throw new Error('expected a sealed value')
    expect(openSubjectValue(dataKey, parsed, { commandId, field })).toBe(subjectId)
  })

  test('error: a value does not open in another command or field, or under another key', () => {
    const sealed = parseSubjectSeal(sealSubjectValue({ keyId, dataKey }, subjectId, { commandId, field }))
    if (sealed.withheld) throw new Error('expected a sealed value')
    expect(() => openSubjectValue(dataKey, sealed, { commandId: randomUUID(), field })).toThrow(
      UndecryptableError,
    )
    expect(() =>
      openSubjectValue(dataKey, sealed, { commandId, field: 'RegisterAttestationCommand.subjectId' }),
    ).toThrow(UndecryptableError)
    expect(() => openSubjectValue(randomBytes(32), sealed, { commandId, field })).toThrow(UndecryptableError)
  })

  test('behavior: an erased subject is named, its value withheld; malformed text is refused', () => {
    expect(sealSubjectValue({ keyId, dataKey: null }, subjectId, { commandId, field })).toBe(`vsub1.${keyId}`)
    expect(parseSubjectSeal(`vsub1.${keyId}`)).toEqual({ keyId, withheld: true })
    for (const text of [subjectId, `vsub1.${keyId}.x`, `vsub1.${keyId.toUpperCase()}.AAAA.AAAA`, 'vsub1.zz'])
      expect(() => parseSubjectSeal(text)).toThrow(UndecryptableError)
  })
})

describe('sealed prove inputs (vprv1)', () => {
  const prover = generateKeyPairSync('x25519')
  const commandId = randomUUID()
  const values = ['12345678901234567890', '0']

  test('behavior: a value written from the documented steps opens with the prover key', () => {
    const ephemeral = generateKeyPairSync('x25519')
    const ephemeralRaw = rawPublicKey(ephemeral.publicKey)
    const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: prover.publicKey })
    const salt = Buffer.concat([ephemeralRaw, rawPublicKey(prover.publicKey)])
    const key = Buffer.from(hkdfSync('sha256', shared, salt, Buffer.from('veridis.prover.v1'), 32))
    const written = `vprv1.${b64url(ephemeralRaw)}.${gcm(key, JSON.stringify(values), `vprv1.${commandId}.secret`)}`
    expect(
      openForProver(prover.privateKey, prover.publicKey, written, { commandId, signal: 'secret' }),
    ).toEqual(values)
  })

  test('error: a value does not open for another signal, command or prover', () => {
    const sealed = sealForProver(prover.publicKey, values, { commandId, signal: 'secret' })
    const open = (place: { commandId: string; signal: string }, keys = prover) =>
      openForProver(keys.privateKey, keys.publicKey, sealed, place)
    expect(open({ commandId, signal: 'secret' })).toEqual(values)
    expect(() => open({ commandId, signal: 'scope' })).toThrow(UndecryptableError)
    expect(() => open({ commandId: randomUUID(), signal: 'secret' })).toThrow(UndecryptableError)
    expect(() => open({ commandId, signal: 'secret' }, generateKeyPairSync('x25519'))).toThrow(
      UndecryptableError,
    )
    // Each value has its own ephemeral key: equal inputs never look equal on the topic.
    expect(sealForProver(prover.publicKey, values, { commandId, signal: 'secret' })).not.toBe(sealed)
  })

  test("behavior: a command's signals share one ephemeral key, each with its own IV, and open only in their own place", () => {
    const inputs = { secret: values, scope: values, message: ['7'] }
    const sealed = sealProveInputs(prover.publicKey, commandId, inputs)
    const parts = Object.values(sealed).map((value) => value[0]!.split('.'))
    expect(new Set(parts.map((part) => part[1])).size).toBe(1)
    expect(new Set(parts.map((part) => part[2])).size).toBe(3)
    // Equal values of two signals do not look equal.
    expect(sealed.secret![0]).not.toBe(sealed.scope![0])
    expect(openProveInputs(prover, commandId, sealed)).toEqual(inputs)
    // Swapped between signals, or moved to another command, a value does not open.
    expect(() => openProveInputs(prover, commandId, { ...sealed, secret: sealed.scope! })).toThrow(
      UndecryptableError,
    )
    expect(() => openProveInputs(prover, randomUUID(), sealed)).toThrow(UndecryptableError)
    // Another command — even of the same inputs — has a key pair of its own.
    const again = sealProveInputs(prover.publicKey, commandId, inputs)
    expect(again.secret![0]!.split('.')[1]).not.toBe(parts[0]![1])
  })

  test("behavior: a writer's sealer shares one ephemeral key between commands until it is a second or 4,096 commands old", () => {
    let clock = 1_000_000
    const seal = createProveInputSealer(prover.publicKey, { now: () => clock })
    const ephemeralOf = (sealed: Record<string, string[]>) => sealed.secret![0]!.split('.')[1]
    const inputs = { secret: values, scope: ['9'] }
    const commands = Array.from({ length: 4_096 }, () => randomUUID())
    const sealed = commands.map((id) => seal(id, inputs))
    expect(new Set(sealed.map(ephemeralOf)).size).toBe(1)
    // One key, yet every value its own IV, and each opens in its own command only.
    expect(new Set(sealed.map((s) => s.secret![0]!.split('.')[2])).size).toBe(4_096)
    expect(openProveInputs(prover, commands[4_095]!, sealed[4_095]!)).toEqual(inputs)
    expect(() => openProveInputs(prover, commands[0]!, sealed[1]!)).toThrow(UndecryptableError)
    // The 4,097th command gets a new pair; so does the first after a second has passed.
    const renewedByCount = ephemeralOf(seal(randomUUID(), inputs))
    expect(renewedByCount).not.toBe(ephemeralOf(sealed[0]!))
    clock += 999
    expect(ephemeralOf(seal(randomUUID(), inputs))).toBe(renewedByCount)
    clock += 1
    const renewedByAge = ephemeralOf(seal(randomUUID(), inputs))
    expect(renewedByAge).not.toBe(renewedByCount)
    // A clock that steps back does not stretch a pair's life either.
    clock -= 10
    expect(ephemeralOf(seal(randomUUID(), inputs))).not.toBe(renewedByAge)
  })
})
