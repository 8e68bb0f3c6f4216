import { findChain, isCaip2 } from '../../core/chains.ts'

/**
 * Stricter checks than Avro can express, applied as JSON-schema formats on top of the
 * schema derived from the command contract (contract.ts). Each is a named format so a
 * refusal names both the field and the rule it broke.
 */

/** Order of BN254's scalar field: circuit signals, nullifiers, roots and scopes live below it. */
export const BN254_SCALAR_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n
/** BN254's base field: coordinates of proof points (G1, G2) live below it. */
export const BN254_BASE_MODULUS =
  21888242871839275222246405745257275088696311157297823662689037894645226208583n

// Canonical decimal: no sign, no leading zeros, at most 77 digits (the moduli have 77).
const DECIMAL = /^(0|[1-9][0-9]{0,76})$/

const below = (modulus: bigint) => (value: string) => DECIMAL.test(value) && BigInt(value) < modulus

export const FORMATS = {
  'field-element': {
    validate: below(BN254_SCALAR_MODULUS),
    explain: 'must be a decimal field element (canonical, below the BN254 scalar field modulus)',
  },
  'base-field-element': {
    validate: below(BN254_BASE_MODULUS),
    explain: 'must be a decimal coordinate (canonical, below the BN254 base field modulus)',
  },
  caip2: {
    validate: (value: string) => isCaip2(value) && findChain(value) !== undefined,
    explain: 'must be the CAIP-2 id of a chain Veridis knows (e.g. eip155:1)',
  },
  'hex-hash': {
    validate: (value: string) => /^0x[0-9a-fA-F]{64}$/.test(value),
    explain: 'must be a 32-byte hash as 0x followed by 64 hex digits',
  },
  'tx-hash': {
    // EVM and StarkNet hashes are hex; Solana transaction ids are base58 signatures.
    validate: (value: string) =>
      /^0x[0-9a-fA-F]{1,64}$/.test(value) || /^[1-9A-HJ-NP-Za-km-z]{64,88}$/.test(value),
    explain: 'must be a transaction hash (0x + hex) or a base58 transaction signature',
  },
  uint256: {
    // Token amounts and nonces as a contract sees them: canonical decimals below 2^256.
    validate: (value: string) => /^(0|[1-9][0-9]{0,77})$/.test(value) && BigInt(value) < 1n << 256n,
    explain: 'must be an unsigned 256-bit integer as a canonical decimal',
  },
  'evm-address': {
    validate: (value: string) => /^0x[0-9a-fA-F]{40}$/.test(value),
    explain: 'must be an EVM address as 0x followed by 40 hex digits',
  },
  'chain-address': {
    // Addresses in the chain's native format: hex (EVM, StarkNet), bech32 (Cosmos), base58.
    validate: (value: string) =>
      /^(0x[0-9a-fA-F]{1,64}|[a-z]{1,20}1[02-9ac-hj-np-z]{6,90}|[1-9A-HJ-NP-Za-km-z]{32,48})$/.test(value),
    explain: "must be a contract address in its chain's format (0x hex, bech32 or base58)",
  },
} as const satisfies Record<string, { validate: (value: string) => boolean; explain: string }>

export type FormatName = keyof typeof FORMATS

/** The formats as Fastify's Ajv takes them. */
export const AJV_FORMATS: Record<string, { type: 'string'; validate: (value: string) => boolean }> =
  Object.fromEntries(
    Object.entries(FORMATS).map(([name, format]) => [
      name,
      { type: 'string' as const, validate: format.validate },
    ]),
  )
