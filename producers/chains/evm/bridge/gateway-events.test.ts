import { randomBytes } from 'node:crypto'
import { getAddress, Wallet } from 'ethers'
import { describe, expect, test } from 'vitest'
import { checksumAddress } from '../../../../core/bridge/addresses.ts'
import { GATEWAY, gatewayEvent } from './chain-reader.ts'

/**
 * The guard's hot-path shortcuts must answer exactly what the ethers calls they replace answer:
 * `gatewayEvent(...).decode` against `Interface.parseLog`, `checksumAddress` against `getAddress`.
 */
const MESSAGE_ID = `0x${'ab'.repeat(32)}`
const SENDER = Wallet.createRandom().address
const RECIPIENT = Wallet.createRandom().address
const TOKEN = Wallet.createRandom().address

function lockedLog() {
  const event = GATEWAY.getEvent('BridgeLocked')!
  return GATEWAY.encodeEventLog(event, [MESSAGE_ID, 1, SENDER, RECIPIENT, TOKEN, 10n ** 18n, 31338n, 7n])
}

describe('gateway event decoding', () => {
  const locked = gatewayEvent('BridgeLocked')
  const released = gatewayEvent('BridgeReleased')

  test('behavior: a log of the event decodes to what parseLog decodes, whatever the case of its topic0', () => {
    const log = lockedLog()
    const reference = GATEWAY.parseLog(log)!.args
    for (const topics of [
      log.topics,
      [log.topics[0]!.toUpperCase().replace('0X', '0x'), ...log.topics.slice(1)],
    ]) {
      const args = locked.decode({ topics, data: log.data })
      expect(args).toBeDefined()
      expect(args!.toArray()).toEqual(reference.toArray())
      expect([args!.token, args!.recipient, args!.amount, args!.destinationChainId]).toEqual([
        TOKEN,
        RECIPIENT,
        10n ** 18n,
        31338n,
      ])
    }
    expect(locked.topic).toBe(GATEWAY.getEvent('BridgeLocked')!.topicHash.toLowerCase())
  })

  test('error: another event or no topic is no event; data that does not decode throws, as parseLog does', () => {
    const log = lockedLog()
    expect(released.decode(log)).toBeUndefined()
    expect(locked.decode({ topics: [], data: log.data })).toBeUndefined()
    // A malformed log is an endpoint's wrong answer (the chain reader records it as such), not silence.
    const truncated = { topics: log.topics, data: log.data.slice(0, 66) }
    expect(() => GATEWAY.parseLog(truncated)).toThrow(/out-of-bounds/)
    expect(() => locked.decode(truncated)).toThrow(/out-of-bounds/)
    expect(() => gatewayEvent('NoSuchEvent')).toThrow(/NoSuchEvent missing/)
  })
})

describe('remembered checksums', () => {
  test('behavior: the same answer as getAddress for every spelling of an address, on first and later calls', () => {
    const address = Wallet.createRandom().address
    for (const spelling of [address, address.toLowerCase(), `0x${address.slice(2).toUpperCase()}`]) {
      expect(checksumAddress(spelling)).toBe(getAddress(spelling))
      expect(checksumAddress(spelling)).toBe(address)
    }
  })

  test('error: what getAddress refuses is refused every time, and never remembered as an address', () => {
    const address = Wallet.createRandom().address
    // A mixed-case spelling with one letter's case flipped fails EIP-55.
    const letter = address.slice(2).search(/[a-fA-F]/) + 2
    const flipped =
      address.slice(0, letter) +
      (address[letter] === address[letter]!.toLowerCase()
        ? address[letter]!.toUpperCase()
        : address[letter]!.toLowerCase()) +
      address.slice(letter + 1)
    for (const refused of [flipped, '0x1234', 'not an address']) {
      expect(() => getAddress(refused)).toThrow()
      expect(() => checksumAddress(refused)).toThrow()
      expect(() => checksumAddress(refused)).toThrow()
    }
  })

  test('behavior: past its capacity it still answers correctly (older entries are recomputed)', () => {
    const addresses = Array.from({ length: 5_000 }, () => `0x${randomBytes(20).toString('hex')}`)
    for (const address of addresses) checksumAddress(address)
    for (const address of [addresses[0]!, addresses[2_500]!, addresses[4_999]!])
      expect(checksumAddress(address)).toBe(getAddress(address))
  })
})
