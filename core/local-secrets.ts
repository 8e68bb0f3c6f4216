import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * A secret generated locally on first use (the stack's database passwords, the audit
 * consumer's development keys), kept in the
 * project's secrets directory with owner-only permissions and reused on every start.
 */
export function localSecret(secretsDir: string, name: string): string {
  const file = path.join(secretsDir, name)
  if (!existsSync(file)) {
    mkdirSync(secretsDir, { recursive: true, mode: 0o700 })
    try {
      // Exclusive create: of two first runs racing, one writes and both read the same secret.
      writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600, flag: 'wx' })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  return readFileSync(file, 'utf8').trim()
}
