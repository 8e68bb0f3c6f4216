import { randomFillSync } from 'node:crypto'

/**
 * W3C trace context (https://www.w3.org/TR/trace-context/): `traceparent` travels as a
 * Kafka header so a command can be followed through every stage that acts on it.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

export interface TraceParent {
  traceId: string
  spanId: string
  flags: string
}

export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  const match = value ? TRACEPARENT.exec(value) : null
  if (!match) return undefined
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string]
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined
  return { traceId, spanId, flags }
}

export function formatTraceparent(trace: TraceParent): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`
}

// Ids for spans are drawn from a pool refilled in bulk: one getrandom call per 4096 spans
// instead of one per message, which matters at tens of thousands of records a second.
const pool = Buffer.alloc(64 * 1024)
let poolOffset = pool.length

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes)
  poolOffset += bytes
  return hex
}

/** A child span of `parent`, or the root of a new trace. */
export function nextTraceparent(parent?: string): string {
  const parsed = parseTraceparent(parent)
  return formatTraceparent({
    traceId: parsed?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    flags: parsed?.flags ?? '01',
  })
}
