import { checksumAddress } from '../../../../core/bridge/addresses.ts'

/**
 * The gateway's three hottest ABI shapes, read and written word by word when the data is in
 * canonical form (what `abi.encode` and every honest client produce): the `release()` call,
 * the `BridgeLocked` log and the release digest's preimage. ethers' coder took 150–290 µs for
 * each of these per release, more than recovering its signatures (docs/benchmarks.md,
 * "Bridge guard"); word reads take a few.
 *
 * Each reader checks the whole shape first — exact length, the standard offsets, zero padding
 * and clean high bits in every address and small integer — and answers `undefined` for
 * anything else, and its caller then asks ethers as before. For data in canonical form the two
 * cannot differ (ethers decodes each word the same way), so what is accepted, refused and
 * returned stays ethers'; canonical-abi.test.ts holds them equal on generated and mutated data.
 */
const WORD = 64
const HEX_BODY = /^[0-9a-f]*$/
const CLEAN_ADDRESS = '0'.repeat(24)
const CLEAN_SMALL = '0'.repeat(62)
const ZERO_WORD = '0'.repeat(WORD)

/** The body's words (after `skip` hex characters of a lowercase 0x string), or undefined. */
function wordsOf(hex: string, skip: number): string | undefined {
  if (!hex.startsWith('0x')) return undefined
  const body = hex.slice(2 + skip).toLowerCase()
  if (body.length % WORD !== 0 || !HEX_BODY.test(body)) return undefined
  return body
}

const word = (body: string, index: number) => body.slice(index * WORD, (index + 1) * WORD)
const uint = (w: string) => BigInt(`0x${w}`)
const address = (w: string) => checksumAddress(`0x${w.slice(24)}`)
const isAddress = (w: string) => w.startsWith(CLEAN_ADDRESS)
const isSmall = (w: string) => w.startsWith(CLEAN_SMALL)
/** A length or offset word read as a number, if it fits one safely. */
const count = (w: string) => (w.startsWith('0'.repeat(52)) ? Number.parseInt(w.slice(52), 16) : Number.NaN)

/** The `release()` arguments the guard reads (the others are checked, not returned). */
export interface CanonicalReleaseCall {
  readonly sourceChainId: bigint
  readonly sourceGateway: string
  readonly nonce: bigint
  readonly signatures: string[]
}

/**
 * `release(uint8 mode, address token, address recipient, uint256 amount, uint256 sourceChainId,
 * address sourceGateway, uint256 nonce, bytes[] signatures)` calldata, selector included, the
 * selector already checked by the caller; undefined when not in canonical form.
 */
export function readReleaseCall(input: string): CanonicalReleaseCall | undefined {
  const body = wordsOf(input, 8)
  if (body === undefined || body.length < 9 * WORD) return undefined
  if (!isSmall(word(body, 0)) || !isAddress(word(body, 1)) || !isAddress(word(body, 2))) return undefined
  if (!isAddress(word(body, 5)) || count(word(body, 7)) !== 8 * 32) return undefined
  // The array: its length, one offset per element (from the first offset word), then each
  // element's length and bytes, padded with zeros to a whole word, laid out in order.
  const length = count(word(body, 8))
  const elements = 9
  if (!(length >= 0) || elements + length > body.length / WORD) return undefined
  const signatures: string[] = []
  let next = length * 32
  for (let i = 0; i < length; i++) {
    if (count(word(body, elements + i)) !== next) return undefined
    const at = elements + next / 32
    if (at >= body.length / WORD) return undefined
    const bytes = count(word(body, at))
    const padded = Math.ceil(bytes / 32)
    if (!(bytes >= 0) || at + 1 + padded > body.length / WORD) return undefined
    const data = body.slice((at + 1) * WORD, (at + 1 + padded) * WORD)
    if (data.slice(bytes * 2) !== '0'.repeat(padded * WORD - bytes * 2)) return undefined
    signatures.push(`0x${data.slice(0, bytes * 2)}`)
    next += 32 + padded * 32
  }
  if (elements + next / 32 !== body.length / WORD) return undefined
  return {
    sourceChainId: uint(word(body, 4)),
    sourceGateway: address(word(body, 5)),
    nonce: uint(word(body, 6)),
    signatures,
  }
}

/** The `BridgeLocked` arguments the guard reads, as ethers' `decodeEventLog` names them. */
export interface CanonicalLock {
  readonly token: string
  readonly recipient: string
  readonly amount: bigint
  readonly destinationChainId: bigint
}

/**
 * A `BridgeLocked(bytes32 indexed messageId, uint8 mode, address indexed sender, address
 * recipient, address indexed token, uint256 amount, uint256 destinationChainId, uint256 nonce)`
 * log whose topic0 the caller checked; undefined when not in canonical form.
 */
export function readLockedLog(log: {
  readonly topics: readonly string[]
  readonly data: string
}): CanonicalLock | undefined {
  if (log.topics.length !== 4) return undefined
  const sender = wordsOf(log.topics[2]!, 0)
  const token = wordsOf(log.topics[3]!, 0)
  const body = wordsOf(log.data, 0)
  if (sender?.length !== WORD || token?.length !== WORD || body?.length !== 5 * WORD) return undefined
  if (wordsOf(log.topics[1]!, 0)?.length !== WORD) return undefined
  if (!isAddress(sender) || !isAddress(token) || !isSmall(word(body, 0)) || !isAddress(word(body, 1)))
    return undefined
  return {
    token: address(token),
    recipient: address(word(body, 1)),
    amount: uint(word(body, 2)),
    destinationChainId: uint(word(body, 3)),
  }
}

const UINT256_LIMIT = 1n << 256n
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const BYTES32 = /^0x[0-9a-fA-F]{64}$/

/**
 * `abi.encode` of static words — `['bytes32', value]`, `['uint', value]`, `['address', value]`
 * — as lowercase hex with its 0x; undefined when a value is one ethers might refuse or read
 * differently (an address not lowercase and not correctly checksummed, an integer out of range),
 * so the caller hands those to ethers, which accepts or throws as it always has.
 */
export function encodeStaticWords(
  values: readonly (
    | readonly ['bytes32', string]
    | readonly ['uint', bigint, number]
    | readonly ['address', string]
  )[],
): string | undefined {
  let out = '0x'
  for (const entry of values) {
    if (entry[0] === 'bytes32') {
      if (!BYTES32.test(entry[1])) return undefined
      out += entry[1].slice(2).toLowerCase()
    } else if (entry[0] === 'uint') {
      const [, value, bits] = entry
      if (value < 0n || value >= (bits === 256 ? UINT256_LIMIT : 1n << BigInt(bits))) return undefined
      out += value === 0n ? ZERO_WORD : value.toString(16).padStart(WORD, '0')
    } else {
      const value = entry[1]
      if (!ADDRESS.test(value)) return undefined
      const lower = value.toLowerCase()
      if (value !== lower && checksumOrUndefined(value) !== value) return undefined
      out += CLEAN_ADDRESS + lower.slice(2)
    }
  }
  return out
}

function checksumOrUndefined(value: string): string | undefined {
  try {
    return checksumAddress(value)
  } catch {
    return undefined
  }
}
