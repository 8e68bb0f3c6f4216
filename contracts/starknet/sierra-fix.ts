/**
 * wasm-cairo is the Cairo compiler built for wasm32, where `usize::MAX` is 2^32 − 1; the
 * Sierra felt encoding writes a fall-through branch target as `usize::MAX`. Every 64-bit
 * Sierra → CASM compiler (starknet-devnet's, starknet-sierra-compile) reads fall-through as
 * 2^64 − 1 and takes 2^32 − 1 for a jump to a statement that does not exist ("libfunc
 * invocation branch #0 target mismatch"). This walks the encoded program the way
 * cairo-lang-starknet-classes' felt252_serde reads it and rewrites exactly the branch
 * targets, nothing else (a u32::MAX constant elsewhere in the program stays as it is).
 */
const WASM32_FALLTHROUGH = 2n ** 32n - 1n
const FALLTHROUGH = 2n ** 64n - 1n
const U128_MASK = 2n ** 128n - 1n

export class SierraEncodingError extends Error {
  override name = 'SierraEncodingError'
}

const PRIME = 2n ** 251n + 17n * 2n ** 192n + 1n
const MIN_PADDED_CODE_SIZE = 256

function wordsPerFelt(paddedCodeSize: number): number {
  let count = 0
  let max = BigInt(paddedCodeSize)
  while (max < PRIME) {
    max *= BigInt(paddedCodeSize)
    count++
  }
  return count
}

/** The program's felts after the version felts are compressed: a code book, then packed indices. */
function decompress(packed: readonly bigint[]): bigint[] {
  const codeSize = Number(packed[0])
  const padding = Number(packed[1])
  const code = packed.slice(2, 2 + codeSize)
  let remaining = Number(packed[2 + codeSize])
  const padded = codeSize + padding
  if (padded < MIN_PADDED_CODE_SIZE || (padded & (padded - 1)) !== 0)
    throw new SierraEncodingError('bad code book size')
  const perFelt = wordsPerFelt(padded)
  const result: bigint[] = []
  for (const value of packed.slice(3 + codeSize)) {
    let word = value
    for (let i = 0; i < Math.min(perFelt, remaining); i++) {
      const index = Number(word % BigInt(padded))
      const entry = code[index]
      if (entry === undefined) throw new SierraEncodingError('index outside the code book')
      result.push(entry)
      word /= BigInt(padded)
    }
    remaining -= Math.min(perFelt, remaining)
  }
  if (remaining !== 0) throw new SierraEncodingError('compressed program ends early')
  return result
}

function compress(values: readonly bigint[]): bigint[] {
  const code = new Map<bigint, number>()
  for (const value of values) if (!code.has(value)) code.set(value, code.size)
  let padded = MIN_PADDED_CODE_SIZE
  while (padded < code.size) padded *= 2
  const result = [BigInt(code.size), BigInt(padded - code.size), ...code.keys(), BigInt(values.length)]
  const perFelt = wordsPerFelt(padded)
  for (let start = 0; start < values.length; start += perFelt) {
    let packed = 0n
    for (const value of values.slice(start, start + perFelt).reverse()) {
      packed = packed * BigInt(padded) + BigInt(code.get(value)!)
    }
    result.push(packed)
  }
  return result
}

export function fixWasm32Fallthroughs(program: readonly string[]): { program: string[]; fixed: number } {
  const versions = program.slice(0, 6) // sierra version (3 felts) and compiler version (3 felts)
  const out = decompress(program.slice(6).map((felt) => BigInt(felt))).map(
    (value) => `0x${value.toString(16)}`,
  )
  let position = 0
  const next = (): bigint => {
    const value = out[position]
    if (value === undefined) throw new SierraEncodingError('Sierra program ends early')
    position++
    return BigInt(value)
  }
  const count = (): number => {
    const value = next()
    if (value > BigInt(out.length)) throw new SierraEncodingError(`implausible length ${value}`)
    return Number(value)
  }
  const skip = (felts: number) => {
    for (let i = 0; i < felts; i++) next()
  }
  const genericArgs = (n: number) => {
    for (let i = 0; i < n; i++) {
      const tag = next()
      if (tag > 5n) throw new SierraEncodingError(`unknown generic argument kind ${tag}`)
      skip(1)
    }
  }
  let fixed = 0
  // Type declarations: generic id, (argument count | type info << 128), arguments.
  for (let types = count(), i = 0; i < types; i++) {
    skip(1)
    genericArgs(Number(next() & U128_MASK))
  }
  // Libfunc declarations: generic id, arguments.
  for (let libfuncs = count(), i = 0; i < libfuncs; i++) {
    skip(1)
    genericArgs(count())
  }
  // Statements: an invocation (libfunc, arguments, branches: target and results) or a return.
  for (let statements = count(), i = 0; i < statements; i++) {
    const kind = next()
    if (kind === 1n) {
      skip(count())
      continue
    }
    if (kind !== 0n) throw new SierraEncodingError(`unknown statement kind ${kind}`)
    skip(1)
    skip(count())
    for (let branches = count(), b = 0; b < branches; b++) {
      if (BigInt(out[position] ?? '0') === WASM32_FALLTHROUGH) {
        out[position] = `0x${FALLTHROUGH.toString(16)}`
        fixed++
      }
      skip(1)
      skip(count())
    }
  }
  // Functions: signature (parameter and return types), a variable per parameter, entry point.
  for (let funcs = count(), i = 0; i < funcs; i++) {
    const params = count()
    skip(params)
    skip(count())
    skip(params + 1)
  }
  if (position !== out.length) {
    throw new SierraEncodingError(`${out.length - position} felts left after the Sierra program`)
  }
  const packed = compress(out.map((felt) => BigInt(felt))).map((value) => `0x${value.toString(16)}`)
  return { program: [...versions, ...packed], fixed }
}
