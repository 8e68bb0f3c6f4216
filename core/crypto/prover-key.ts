import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { type Config, ConfigError } from '../config/index.ts'

/**
 * The prover's X25519 key pair. Writers of prove commands need the public key only
 * (VERIDIS_PROVER_PUBLIC_KEY); the prover needs the private one (VERIDIS_PROVER_PRIVATE_KEY).
 * Development and tests generate a pair once under VERIDIS_HOME/secrets, owner-only; in
 * production each process names what it needs, and a missing key stops that process.
 */
const LOCAL_KEY_FILE = 'prover-x25519.pem'

function localPrivateKeyPem(home: string): string {
  const dir = path.join(home, 'secrets')
  const file = path.join(dir, LOCAL_KEY_FILE)
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const { privateKey } = generateKeyPairSync('x25519')
    try {
      // Exclusive create: of two first runs racing, one writes and both read the same key.
      writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
  return readFileSync(file, 'utf8')
}

function x25519(key: KeyObject, variable: string): KeyObject {
  if (key.asymmetricKeyType !== 'x25519') throw new ConfigError([`${variable}: must be an X25519 key`])
  return key
}

export interface ProverKeyPair {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
}

export function loadProverKeyPair(config: Config): ProverKeyPair {
  const pem = config.zk.proverPrivateKey
  if (!pem && config.env === 'production')
    throw new ConfigError(['VERIDIS_PROVER_PRIVATE_KEY: required in production by the prover'])
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(pem ?? localPrivateKeyPem(config.home))
  } catch {
    // The parser's message could quote the key material.
    throw new ConfigError(['VERIDIS_PROVER_PRIVATE_KEY: not a readable PEM private key'])
  }
  x25519(privateKey, 'VERIDIS_PROVER_PRIVATE_KEY')
  const publicKey = createPublicKey(privateKey)
  const configured = config.zk.proverPublicKey
  if (configured && !createPublicKey(configured).equals(publicKey))
    throw new ConfigError(['VERIDIS_PROVER_PUBLIC_KEY: does not belong to VERIDIS_PROVER_PRIVATE_KEY'])
  return { privateKey, publicKey }
}

export function loadProverPublicKey(config: Config): KeyObject {
  const pem = config.zk.proverPublicKey
  if (pem) {
    try {
      return x25519(createPublicKey(pem), 'VERIDIS_PROVER_PUBLIC_KEY')
    } catch (error) {
      if (error instanceof ConfigError) throw error
      throw new ConfigError(['VERIDIS_PROVER_PUBLIC_KEY: not a readable PEM public key'])
    }
  }
  if (config.env === 'production')
    throw new ConfigError(['VERIDIS_PROVER_PUBLIC_KEY: required in production to seal prove inputs'])
  return loadProverKeyPair(config).publicKey
}
