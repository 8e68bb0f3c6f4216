/**
 * The few protobuf messages the Cosmos family writes and reads by hand (wire format:
 * https://protobuf.dev/programming-guides/encoding/): CosmWasm's smart-query and contract-info
 * requests, MsgExecuteContract, TxBody and TxRaw. cosmjs 0.39 signs (proto-signing's
 * makeAuthInfoBytes / makeSignDoc); these six messages are a few lines each here, instead of a
 * dependency on the generated cosmjs-types bindings of every Cosmos module.
 */
type Field = readonly [number, 'string' | 'bytes', string | Uint8Array] | readonly [number, 'varint', bigint]

function varint(value: bigint): number[] {
  const out: number[] = []
  let rest = value
  do {
    let byte = Number(rest & 0x7fn)
    rest >>= 7n
    if (rest > 0n) byte |= 0x80
    out.push(byte)
  } while (rest > 0n)
  return out
}

/** A message of the fields in order; empty strings and bytes are left out, as proto3 does. */
export function encodeMessage(fields: readonly Field[]): Uint8Array {
  const parts: Uint8Array[] = []
  for (const [number, kind, value] of fields) {
    if (kind === 'varint') {
      if (value === 0n) continue
      parts.push(Uint8Array.from([...varint(BigInt(number << 3)), ...varint(value)]))
      continue
    }
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value
    if (bytes.length === 0) continue
    parts.push(
      Uint8Array.from([...varint(BigInt((number << 3) | 2)), ...varint(BigInt(bytes.length))]),
      bytes,
    )
  }
  return new Uint8Array(Buffer.concat(parts))
}

/** The length-delimited and varint fields of a message, by field number (repeated fields in order). */
export function decodeMessage(bytes: Uint8Array): Map<number, (Uint8Array | bigint)[]> {
  const fields = new Map<number, (Uint8Array | bigint)[]>()
  let position = 0
  const readVarint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      const byte = bytes[position++]
      if (byte === undefined) throw new Error('protobuf: truncated varint')
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result
      shift += 7n
      if (shift > 63n) throw new Error('protobuf: varint too long')
    }
  }
  while (position < bytes.length) {
    const key = readVarint()
    const number = Number(key >> 3n)
    const wire = Number(key & 7n)
    if (wire === 0) {
      const list = fields.get(number) ?? []
      list.push(readVarint())
      fields.set(number, list)
    } else if (wire === 2) {
      const length = Number(readVarint())
      if (position + length > bytes.length) throw new Error('protobuf: truncated field')
      const list = fields.get(number) ?? []
      list.push(bytes.subarray(position, position + length))
      fields.set(number, list)
      position += length
    } else if (wire === 1) position += 8
    else if (wire === 5) position += 4
    else throw new Error(`protobuf: unsupported wire type ${wire}`)
  }
  return fields
}

/** The first bytes value of a field (empty when absent, as proto3 reads it). */
export function bytesField(fields: Map<number, (Uint8Array | bigint)[]>, number: number): Uint8Array {
  const value = fields.get(number)?.[0]
  if (value === undefined) return new Uint8Array()
  if (typeof value === 'bigint') throw new Error(`protobuf: field ${number} is not length-delimited`)
  return value
}

/** The first varint value of a field (0 when absent). */
export function varintField(fields: Map<number, (Uint8Array | bigint)[]>, number: number): bigint {
  const value = fields.get(number)?.[0]
  if (value === undefined) return 0n
  if (typeof value !== 'bigint') throw new Error(`protobuf: field ${number} is not a varint`)
  return value
}

/** cosmos.auth.v1beta1.QueryAccountRequest */
export const accountRequest = (address: string) => encodeMessage([[1, 'string', address]])

/**
 * Account number and sequence from a QueryAccountResponse (its Any holds a BaseAccount, or a
 * module/vesting account whose field 1 is the BaseAccount).
 */
export function accountOf(value: Uint8Array): { accountNumber: bigint; sequence: bigint } {
  const any = decodeMessage(bytesField(decodeMessage(value), 1))
  const typeUrl = new TextDecoder().decode(bytesField(any, 1))
  let account = decodeMessage(bytesField(any, 2))
  if (typeUrl !== '/cosmos.auth.v1beta1.BaseAccount') account = decodeMessage(bytesField(account, 1))
  return { accountNumber: varintField(account, 3), sequence: varintField(account, 4) }
}

/** cosmwasm.wasm.v1.QuerySmartContractStateRequest */
export const smartQueryRequest = (contract: string, query: unknown) =>
  encodeMessage([
    [1, 'string', contract],
    [2, 'bytes', new TextEncoder().encode(JSON.stringify(query))],
  ])

/** The JSON a QuerySmartContractStateResponse carries. */
export function smartQueryResult(value: Uint8Array): unknown {
  const data = bytesField(decodeMessage(value), 1)
  return JSON.parse(new TextDecoder().decode(data))
}

/** cosmwasm.wasm.v1.QueryContractInfoRequest */
export const contractInfoRequest = (contract: string) => encodeMessage([[1, 'string', contract]])

export const MSG_EXECUTE_CONTRACT = '/cosmwasm.wasm.v1.MsgExecuteContract'

/** cosmwasm.wasm.v1.MsgExecuteContract without funds, packed as a google.protobuf.Any. */
export function executeContractAny(sender: string, contract: string, msg: unknown): Uint8Array {
  const value = encodeMessage([
    [1, 'string', sender],
    [2, 'string', contract],
    [3, 'bytes', new TextEncoder().encode(JSON.stringify(msg))],
  ])
  return encodeMessage([
    [1, 'string', MSG_EXECUTE_CONTRACT],
    [2, 'bytes', value],
  ])
}

/** cosmos.tx.v1beta1.TxBody of already packed messages. */
export const txBody = (messages: readonly Uint8Array[], memo: string) =>
  encodeMessage([...messages.map((any) => [1, 'bytes', any] as const), [2, 'string', memo]])

/** cosmos.tx.v1beta1.TxRaw: the exact bytes that are broadcast and whose sha256 is the tx hash. */
export const txRaw = (bodyBytes: Uint8Array, authInfoBytes: Uint8Array, signature: Uint8Array) =>
  encodeMessage([
    [1, 'bytes', bodyBytes],
    [2, 'bytes', authInfoBytes],
    [3, 'bytes', signature],
  ])
