import { randomBytes } from 'node:crypto'
import { getAddress, hexlify, id, keccak256 } from 'ethers'
import { expect, test } from 'vitest'
import { createWasmKeccak256, useWasmKeccak } from './keccak.ts'

/** The WebAssembly keccak given to ethers must hash exactly as ethers' own (@noble/hashes). */
test('behavior: equal to ethers’ own keccak on every length around the rate, before and once installed', async () => {
  const lengths = [...Array.from({ length: 300 }, (_, n) => n), 1_000, 4_096, 100_003]
  const inputs = lengths.map((length) => randomBytes(length))
  const byDefault = inputs.map((input) => keccak256(input))
  const wasm = await createWasmKeccak256()
  expect(inputs.map((input) => hexlify(wasm(input)))).toEqual(byDefault)
  // Interleaved with other inputs, the one hasher still starts each hash afresh.
  expect(hexlify(wasm(inputs[7]!))).toBe(byDefault[7])
  await useWasmKeccak()
  await useWasmKeccak()
  expect(inputs.map((input) => keccak256(input))).toEqual(byDefault)
  // Known answers through ethers' own users of keccak: ERC-20's transfer selector, EIP-55's first example.
  expect(id('transfer(address,uint256)').slice(0, 10)).toBe('0xa9059cbb')
  expect(getAddress('0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed')).toBe(
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  )
})
