import avro from 'avsc'
import { describe, expect, test } from 'vitest'
import { createWireWriter, UndecodableMessageError, unframe } from './wire-format.ts'

const text = avro.Type.forSchema('string')

describe('Confluent wire format', () => {
  test('behavior: magic byte 0, the schema id big-endian, then the Avro body', () => {
    const framed = createWireWriter()(0x01020304, text, 'hello')
    expect([...framed.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4])
    expect(framed.subarray(5)).toEqual(text.toBuffer('hello'))
    const { schemaId, body } = unframe(framed, 'value')
    expect(schemaId).toBe(0x01020304)
    expect(text.fromBuffer(body)).toBe('hello')
  })

  test('behavior: records keep their bytes when the slab fills, and one larger than a slab is framed alone', () => {
    const write = createWireWriter()
    const values = Array.from({ length: 3_000 }, (_, index) => `${index}:${'x'.repeat(1_000)}`)
    const framed = values.map((value) => write(7, text, value))
    const large = 'y'.repeat(3 * 1024 * 1024)
    const largeFramed = write(8, text, large)
    expect(framed.map((record) => text.fromBuffer(unframe(record, 'value').body))).toEqual(values)
    expect(text.fromBuffer(unframe(largeFramed, 'value').body)).toBe(large)
    expect(unframe(largeFramed, 'value').schemaId).toBe(8)
  })

  test('error: a missing, short or foreign record is undecodable, naming what it was', () => {
    expect(() => unframe(null, 'key')).toThrow(UndecodableMessageError)
    expect(() => unframe(Buffer.from([0, 0, 0]), 'value')).toThrow(/value is empty or shorter/)
    expect(() => unframe(Buffer.from('{"json":1}'), 'value')).toThrow(/magic byte 0 \(got 123\)/)
  })
})
