/**
 * kafkajs 2.2.4's record encoder and varints, as patched by infra/patches/kafkajs+2.2.4.patch
 * (one exactly-sized buffer per record instead of one per record and per header; varints
 * written in place), checked against an encoder written here from Kafka's record format
 * (KIP-98: zigzag varints, headers as key/value pairs), and against kafkajs's own decoder,
 * which the consumers read with.
 */
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it, vi } from 'vitest'

type HeaderValue = string | Buffer | null
interface RecordInput {
  offsetDelta?: number
  timestampDelta?: number
  key: Buffer | null
  value: Buffer | null
  headers?: Record<string, HeaderValue | HeaderValue[]>
}

const require = createRequire(import.meta.url)
interface Encoder {
  buf: Buffer
  buffer: Buffer
  writeVarInt(value: number): Encoder
  writeUVarInt(value: number): Encoder
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => Encoder
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  record: RecordInput,
) => Encoder
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as (
  decoder: unknown,
  batchContext: object,
) => { key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[] | null> }
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown

/** Unsigned LEB128, as Kafka's ByteUtils.writeUnsignedVarint. */
function unsignedVarint(value: bigint): Buffer {
  const bytes: number[] = []
  let rest = value
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80)
    rest >>= 7n
  }
  bytes.push(Number(rest))
  return Buffer.from(bytes)
}

/** The zigzag-encoded value as an unsigned varint, as Kafka's ByteUtils.writeVarlong. */
const varint = (value: number): Buffer => unsignedVarint((BigInt(value) << 1n) ^ (BigInt(value) >> 63n))

const sized = (bytes: Buffer | null): Buffer =>
  bytes === null ? varint(-1) : Buffer.concat([varint(bytes.length), bytes])

function referenceRecord(record: RecordInput): Buffer {
  const headerPairs = Object.entries(record.headers ?? {}).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((one) => [name, one] as const),
  )
  const body = Buffer.concat([
    Buffer.from([0]), // attributes
    varint(record.timestampDelta ?? 0),
    varint(record.offsetDelta ?? 0),
    sized(record.key),
    sized(record.value),
    varint(headerPairs.length),
    ...headerPairs.flatMap(([name, value]) => [
      sized(Buffer.from(name, 'utf8')),
      sized(typeof value === 'string' ? Buffer.from(value, 'utf8') : value),
    ]),
  ])
  return Buffer.concat([varint(body.length), body])
}

const busHeaders = {
  eventId: 'evm:eip155:31337:0x5e1f0c4b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f:17',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  producer: 'evm-listener',
}

const cases: Record<string, RecordInput> = {
  'no headers': { key: Buffer.from('k'), value: Buffer.from('v') },
  "the bus's three headers": {
    offsetDelta: 1_999,
    timestampDelta: 37,
    key: Buffer.from([0, 0, 0, 0, 7, 2, 97]),
    value: Buffer.alloc(300, 0xab),
    headers: busHeaders,
  },
  'a header repeated (an array value), Buffer and empty values': {
    key: Buffer.from('key'),
    value: Buffer.from('value'),
    headers: { seen: ['a', 'bb', 'ccc'], raw: Buffer.from([0, 255, 1]), empty: '' },
  },
  'non-ASCII header names and values': {
    key: Buffer.from('κλειδί'),
    value: Buffer.from('💡'),
    headers: { 'producteur-é': 'chaîne 🔗', 名前: '値' },
  },
  // Unpatched kafkajs throws on a null header value (Buffer.byteLength(null)); Kafka allows it.
  'null key and value, a null header value': { key: null, value: null, headers: { tombstone: null } },
  'multi-byte varints and a value past 16 KiB': {
    offsetDelta: 70_000,
    timestampDelta: 2 ** 40,
    key: Buffer.alloc(200, 1),
    value: Buffer.alloc(20_000, 2),
    headers: { ...busHeaders, padding: 'x'.repeat(600) },
  },
}

describe('kafkajs record encoding (patched)', () => {
  afterEach(() => vi.restoreAllMocks())

  for (const [name, record] of Object.entries(cases)) {
    it(`writes Kafka's record format: ${name}`, () => {
      expect(encodeRecord(record).buffer.equals(referenceRecord(record))).toBe(true)
    })
  }

  it("reads back through kafkajs's decoder with the same key, value and headers", () => {
    const record = cases["the bus's three headers"]!
    const encoded = encodeRecord(record).buffer
    const decoder = new Decoder(encoded) as { readVarInt(): number }
    expect(decoder.readVarInt()).toBe(encoded.length - 2)
    const decoded = decodeRecord(decoder, { firstOffset: '0', firstTimestamp: '0', magicByte: 2 })
    expect(decoded.key).toEqual(record.key)
    expect(decoded.value).toEqual(record.value)
    expect(Object.fromEntries(Object.entries(decoded.headers).map(([k, v]) => [k, String(v)]))).toEqual(
      busHeaders,
    )
  })

  it('allocates one buffer per record, of its exact size, whatever the number of headers', () => {
    const alloc = vi.spyOn(Buffer, 'alloc')
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe')
    const encoder = encodeRecord(cases["the bus's three headers"]!)
    // Unpatched kafkajs allocates a zero-filled 512-byte encoder for the record and one per
    // header (4 here), and a buffer per varint.
    expect(alloc.mock.calls.length + allocUnsafe.mock.calls.length).toBe(1)
    expect(encoder.buf.length).toBe(encoder.buffer.length)
  })

  const signed = [0, 1, -1, 63, -64, 64, -65, 8_191, 8_192, 2 ** 20, -(2 ** 20), 2 ** 31 - 1, -(2 ** 31)]
  it(`writes zigzag varints as Kafka does: ${signed.join(', ')}`, () => {
    for (const value of signed) expect(new Encoder().writeVarInt(value).buffer).toEqual(varint(value))
  })

  const unsigned = [0, 1, 127, 128, 16_383, 16_384, 2 ** 21 - 1, 2 ** 21, 2 ** 28, 2 ** 31, 2 ** 32 - 1]
  it(`writes unsigned varints as Kafka does: ${unsigned.join(', ')}`, () => {
    for (const value of unsigned)
      expect(new Encoder().writeUVarInt(value).buffer).toEqual(unsignedVarint(BigInt(value)))
  })
})
