import type avro from 'avsc'
import { NonRetryableError } from '../errors.ts'

/**
 * The Confluent wire format every Kafka key and value here is written in: magic byte 0,
 * the schema id as a 4-byte big-endian integer, then the Avro body. Any Confluent-compatible
 * client in any language reads it given the registry that issued the id.
 */
const MAGIC_BYTE = 0
const HEADER_BYTES = 5
const SLAB_BYTES = 1024 * 1024

export class UndecodableMessageError extends NonRetryableError {
  override name = 'UndecodableMessageError'
}

/**
 * Frames records into a shared slab and hands them out as views of it: no per-record
 * allocation or copy. A slab is dropped once full; the views keep it alive only as long as
 * the records are in use.
 */
export function createWireWriter() {
  let slab = Buffer.allocUnsafe(SLAB_BYTES)
  let slabOffset = 0
  return (schemaId: number, type: avro.Type, value: unknown): Buffer => {
    for (;;) {
      const start = slabOffset
      if (SLAB_BYTES - start > HEADER_BYTES) {
        slab.writeUInt8(MAGIC_BYTE, start)
        slab.writeInt32BE(schemaId, start + 1)
        // avsc returns a negative end when the body did not fit.
        const end = type.encode(value, slab, start + HEADER_BYTES)
        if (end > 0) {
          slabOffset = end
          return slab.subarray(start, end)
        }
        if (start === 0) {
          // Larger than a whole slab: framed on its own.
          const body = type.toBuffer(value)
          const record = Buffer.allocUnsafe(HEADER_BYTES + body.length)
          record.writeUInt8(MAGIC_BYTE, 0)
          record.writeInt32BE(schemaId, 1)
          body.copy(record, HEADER_BYTES)
          return record
        }
      }
      slab = Buffer.allocUnsafe(SLAB_BYTES)
      slabOffset = 0
    }
  }
}

/** The schema id and Avro body of a framed record; `what` names it in the error. */
export function unframe(buffer: Buffer | null, what: string): { schemaId: number; body: Buffer } {
  if (!buffer || buffer.length < HEADER_BYTES)
    throw new UndecodableMessageError(`${what} is empty or shorter than the wire-format header`)
  if (buffer.readUInt8(0) !== MAGIC_BYTE) {
    throw new UndecodableMessageError(
      `${what} does not start with the Confluent magic byte 0 (got ${buffer.readUInt8(0)})`,
    )
  }
  return { schemaId: buffer.readInt32BE(1), body: buffer.subarray(HEADER_BYTES) }
}
