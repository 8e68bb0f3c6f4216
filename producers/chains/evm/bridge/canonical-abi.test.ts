import { randomBytes, randomInt } from 'node:crypto'
import { AbiCoder, dataSlice, getAddress, hexlify, ParamType, toBeHex, Wallet } from 'ethers'
import { describe, expect, test } from 'vitest'
import { encodeStaticWords, readLockedLog, readReleaseCall } from './canonical-abi.ts'
import { GATEWAY, gatewayEvent } from './chain-reader.ts'

/**
 * The word readers answer exactly what ethers answers for data in canonical form, and decline
 * (undefined, so the caller asks ethers) whenever ethers might answer otherwise: each case
 * below is compared with ethers on the same bytes, for generated data and for mutations of it.
 */
const RELEASE = GATEWAY.getFunction('release')!
const LOCKED = gatewayEvent('BridgeLocked')
const coder = AbiCoder.defaultAbiCoder()

const randomAddress = () => Wallet.createRandom().address
const randomUint = (bytes: number) => BigInt(hexlify(randomBytes(bytes)))

function releaseCall(signatures: string[]): string {
  return GATEWAY.encodeFunctionData('release', [
    randomInt(2),
    randomAddress(),
    randomAddress(),
    randomUint(randomInt(1, 33)),
    randomUint(randomInt(1, 9)),
    randomAddress(),
    randomUint(randomInt(1, 33)),
    signatures,
  ])
}

/** ethers' reading of the same calldata: the four fields the guard uses, or 'refused'. */
function ethersRelease(input: string) {
  try {
    const args = coder.decode(RELEASE.inputs, dataSlice(input, 4))
    return {
      sourceChainId: args[4] as bigint,
      sourceGateway: args[5] as string,
      nonce: args[6] as bigint,
      signatures: [...(args[7] as string[])],
    }
  } catch {
    return 'refused' as const
  }
}

/** Flips one hex digit of the body (never the 0x or the selector). */
function mutate(hex: string, skip: number): string {
  const at = 2 + skip + randomInt(hex.length - 2 - skip)
  const digit = '0123456789abcdef'[randomInt(16)]!
  return `${hex.slice(0, at)}${digit}${hex.slice(at + 1)}`
}

const signatureSets = () =>
  [
    [],
    [hexlify(randomBytes(65))],
    [hexlify(randomBytes(65)), hexlify(randomBytes(65)), hexlify(randomBytes(65))],
    [hexlify(randomBytes(64)), '0x', hexlify(randomBytes(randomInt(1, 200)))],
  ] as string[][]

describe('release() calldata', () => {
  test('canonical calldata reads as ethers reads it, signatures of every length included', () => {
    for (let i = 0; i < 50; i++) {
      for (const signatures of signatureSets()) {
        const input = releaseCall(signatures)
        const fast = readReleaseCall(input)
        expect(fast).toBeDefined()
        expect(fast).toEqual(ethersRelease(input))
        expect(fast!.signatures).toEqual(signatures)
      }
    }
  })

  test('mutated, truncated, extended or non-canonical calldata is declined unless ethers reads it the same', () => {
    let declined = 0
    let read = 0
    for (let i = 0; i < 400; i++) {
      const signatures = signatureSets()[randomInt(4)]!
      const input = releaseCall(signatures)
      const variants = [
        mutate(input, 8),
        mutate(mutate(input, 8), 8),
        input.slice(0, input.length - 64),
        `${input}${'00'.repeat(32)}`,
        `${input}00`,
        input.toUpperCase().replace('0X', '0x'),
      ]
      for (const variant of variants) {
        const fast = readReleaseCall(variant)
        if (fast === undefined) {
          declined++
          continue
        }
        read++
        expect(fast).toEqual(ethersRelease(variant))
      }
    }
    // Both outcomes occur: flips in amounts and signature bytes still read; flips in offsets,
    // lengths, padding and address high bytes are declined.
    expect(declined).toBeGreaterThan(100)
    expect(read).toBeGreaterThan(100)
  })

  test('specific non-canonical forms are declined: dirty address bytes, a large mode, moved offsets, dirty padding', () => {
    const input = releaseCall([hexlify(randomBytes(65))])
    const body = input.slice(10)
    const withWord = (index: number, value: string) =>
      `${input.slice(0, 10)}${body.slice(0, index * 64)}${value}${body.slice((index + 1) * 64)}`
    const cases = [
      withWord(1, `01${body.slice(66, 128)}`), // token with a high byte set: ethers refuses it
      withWord(0, toBeHex(256, 32).slice(2)), // mode 256: ethers masks it to 0
      withWord(7, toBeHex(0x120, 32).slice(2)), // the array one word further on
      withWord(9, toBeHex(0x40, 32).slice(2)), // the element's offset moved
      // The signature's last word: 1 byte of data then padding; make the padding dirty.
      `${input.slice(0, -2)}01`,
    ]
    for (const variant of cases) expect(readReleaseCall(variant)).toBeUndefined()
    // ethers defers an element's error to its first read: the token the guard does not read.
    expect(() => coder.decode(RELEASE.inputs, dataSlice(cases[0]!, 4))[1]).toThrow(
      /deferred error during ABI decoding/,
    )
  })
})

describe('BridgeLocked logs', () => {
  const lockedLog = () =>
    GATEWAY.encodeEventLog(GATEWAY.getEvent('BridgeLocked')!, [
      hexlify(randomBytes(32)),
      randomInt(2),
      randomAddress(),
      randomAddress(),
      randomAddress(),
      randomUint(randomInt(1, 33)),
      randomUint(randomInt(1, 9)),
      randomUint(randomInt(1, 33)),
    ])
  const ethersLock = (log: { topics: string[]; data: string }) => {
    try {
      const args = LOCKED.decode(log)!
      return {
        token: args.token,
        recipient: args.recipient,
        amount: args.amount,
        destinationChainId: args.destinationChainId,
      }
    } catch {
      return 'refused' as const
    }
  }

  test('canonical logs read as ethers reads them; mutations are declined or read the same', () => {
    let declined = 0
    for (let i = 0; i < 300; i++) {
      const log = lockedLog()
      expect(readLockedLog(log)).toEqual(ethersLock(log))
      const variants = [
        { topics: log.topics, data: mutate(log.data, 0) },
        {
          topics: [log.topics[0]!, log.topics[1]!, mutate(log.topics[2]!, 0), log.topics[3]!],
          data: log.data,
        },
        {
          topics: [log.topics[0]!, log.topics[1]!, log.topics[2]!, mutate(log.topics[3]!, 0)],
          data: log.data,
        },
        { topics: log.topics, data: `${log.data}${'00'.repeat(32)}` },
        { topics: log.topics.slice(0, 3), data: log.data },
      ]
      for (const variant of variants) {
        const fast = readLockedLog(variant)
        if (fast === undefined) declined++
        else expect(fast).toEqual(ethersLock(variant))
      }
    }
    expect(declined).toBeGreaterThan(300)
  })
})

describe('static words', () => {
  const TYPES = ['bytes32', 'uint256', 'address', 'uint8'].map((type) => ParamType.from(type))

  test('encode as ethers encodes, and decline what ethers might refuse or read otherwise', () => {
    for (let i = 0; i < 300; i++) {
      const bytes32 = hexlify(randomBytes(32))
      const amount = randomUint(randomInt(1, 33))
      const address = randomAddress()
      const mode = BigInt(randomInt(256))
      const spelled = [address, address.toLowerCase()][randomInt(2)]!
      const fast = encodeStaticWords([
        ['bytes32', bytes32],
        ['uint', amount, 256],
        ['address', spelled],
        ['uint', mode, 8],
      ])
      expect(fast).toBe(coder.encode(TYPES, [bytes32, amount, spelled, mode]))
    }
    const address = randomAddress()
    const wrongChecksum =
      address.slice(0, 2) +
      [...address.slice(2)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')
    for (const values of [
      [['address', wrongChecksum]],
      [['address', address.toUpperCase().replace('0X', '0x')]],
      [['address', address.slice(0, -1)]],
      [['bytes32', `0x${'ab'.repeat(31)}`]],
      [['uint', 1n << 256n, 256]],
      [['uint', 256n, 8]],
      [['uint', -1n, 256]],
    ] as Parameters<typeof encodeStaticWords>[0][]) {
      expect(encodeStaticWords(values)).toBeUndefined()
    }
    // The all-uppercase spelling is one ethers takes: declined here, encoded by ethers.
    expect(getAddress(address.toUpperCase().replace('0X', '0x'))).toBe(address)
  })
})
