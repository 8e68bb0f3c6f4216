import { chmodSync, mkdirSync } from 'node:fs'

/**
 * A directory only its owner may enter (0700), like .veridis/secrets: data directories hold
 * log segments, database files and chain state that other local users must not read. An
 * existing directory made by an older version with the default 0755 is tightened too.
 */
export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  return dir
}
