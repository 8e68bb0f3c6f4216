import { randomBytes } from 'node:crypto'
import { describe, expect, test } from 'vitest'
import { sourceMessageId } from '../../consumers/audit/recover.ts'
import { BackupError, openBackup, sealBackup } from '../../infra/ops/backup.ts'

const PASSPHRASE = 'correct horse battery staple'

describe('backup encryption', () => {
  test('behavior: what is sealed opens with the passphrase, and reads as nothing without it', () => {
    const plain = Buffer.from(
      `postgres://veridis:${'s'.repeat(20)}@db/veridis ${randomBytes(64).toString('hex')}`,
    )
    const sealed = sealBackup(plain, PASSPHRASE)
    expect(sealed.includes(plain.subarray(0, 24))).toBe(false)
    expect(openBackup(sealed, PASSPHRASE)).toEqual(plain)
    // A fresh salt and IV each time: the same content never seals to the same bytes.
    expect(sealBackup(plain, PASSPHRASE).equals(sealed)).toBe(false)
  })

  test('error: a wrong passphrase, a changed byte or a foreign file is refused', () => {
    const sealed = sealBackup(Buffer.from('state'), PASSPHRASE)
    expect(() => openBackup(sealed, `${PASSPHRASE}!`)).toThrow(BackupError)
    const tampered = Buffer.from(sealed)
    tampered[tampered.length - 1] = (tampered.at(-1) ?? 0) ^ 1
    expect(() => openBackup(tampered, PASSPHRASE)).toThrow(/wrong passphrase, or the file is damaged/)
    expect(() => openBackup(Buffer.from('PGDMP...'), PASSPHRASE)).toThrow(/not a veridis backup/)
  })

  test('error: a short passphrase is refused before anything is written', () => {
    expect(() => sealBackup(Buffer.from('x'), 'short')).toThrow(/at least 16 characters/)
  })
})

describe('audit recovery', () => {
  const topics = { command: 'c', intake: 'i', attestation: 'a' }
  test('behavior: each audit record names the input message the audit consumer recorded', () => {
    expect(sourceMessageId(topics, 'command:42')).toBe('c#42')
    expect(sourceMessageId(topics, 'command:42:subject-data')).toBe('c#42')
    expect(sourceMessageId(topics, 'intake:f-1')).toBe('i#f-1')
    expect(sourceMessageId(topics, 'chain:0xabc:FINALIZED')).toBe('a#0xabc')
    expect(sourceMessageId(topics, 'retention:attestation.subject_id:42')).toBeUndefined()
  })
})
