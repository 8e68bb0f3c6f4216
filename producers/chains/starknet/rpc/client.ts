import type { z } from 'zod'
import { type ErrorDetails, NonRetryableError } from '../../../../core/errors.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { createFailover } from '../../common/failover.ts'
import { redactUrl, redactUrls } from '../../common/redact.ts'

/**
 * StarkNet JSON-RPC (spec 0.10) over several endpoints of one chain, with the common
 * failover rule (common/failover.ts). Every answer is validated against its zod schema
 * before anything uses it. Plain HTTP POSTs through Node's fetch, as the EVM client does:
 * the listener needs a handful of read methods, and a schema of its own for each answer
 * says exactly what it relies on.
 *
 * StarkNet's own error codes (positive: BLOCK_NOT_FOUND 24, INVALID_CONTINUATION_TOKEN 33,
 * CONTRACT_ERROR 40, ...) are the chain's answer about the request, not a failing endpoint:
 * they surface as StarknetRpcError with the code, and never fail over.
 */
export const StarknetErrorCode = {
  contractNotFound: 20,
  blockNotFound: 24,
  transactionHashNotFound: 29,
  pageSizeTooBig: 31,
  invalidContinuationToken: 33,
  tooManyKeysInFilter: 34,
  contractError: 40,
  transactionExecutionError: 41,
  invalidTransactionNonce: 52,
  duplicateTransaction: 59,
} as const

/** The node answered the request with an error about it: retrying elsewhere will not help. */
export class StarknetRpcError extends NonRetryableError {
  override name = 'StarknetRpcError'
  constructor(
    message: string,
    readonly code: number,
    readonly data: unknown,
    details: ErrorDetails,
  ) {
    super(message, { details })
  }
}

class JsonRpcErrorAnswer extends Error {
  override name = 'JsonRpcErrorAnswer'
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message)
  }
}

export interface StarknetRpcOptions {
  readonly chain: string
  readonly urls: readonly string[]
  readonly timeoutMs: number
  readonly logger: Logger
  readonly onError: (redactedUrl: string) => void
}

async function post(url: string, timeoutMs: number, id: number, method: string, params: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let payload: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } }
  try {
    payload = JSON.parse(text)
  } catch {
    throw new Error(response.ok ? `${method}: the answer is not JSON` : `HTTP ${response.status}`)
  }
  if (payload?.error) {
    throw new JsonRpcErrorAnswer(
      Number(payload.error.code),
      String(payload.error.message ?? 'error'),
      payload.error.data,
    )
  }
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`)
  if (typeof payload !== 'object' || payload === null || !('result' in payload)) {
    throw new Error(`${method}: a JSON-RPC answer without a result`)
  }
  return payload.result
}

/** Positive codes are StarkNet's answers about the request; -32600..-32602 are JSON-RPC's. */
const isRequestError = (error: unknown): error is JsonRpcErrorAnswer =>
  error instanceof JsonRpcErrorAnswer && (error.code > 0 || [-32600, -32601, -32602].includes(error.code))

export function createStarknetRpc(options: StarknetRpcOptions) {
  let nextId = 1
  const failover = createFailover({
    chain: options.chain,
    endpoints: options.urls.map((url) => ({ redacted: redactUrl(url), client: url })),
    logger: options.logger,
    describe: describeStarknetError,
    onError: options.onError,
  })

  return {
    endpoints: failover.endpoints,
    activeUrl: failover.activeEndpoint,

    /** One request (params by name or position), validated against `schema`; fails over between endpoints. */
    call<S extends z.ZodType>(method: string, params: unknown, schema: S): Promise<z.output<S>> {
      return failover.run(method, async (url) => {
        let raw: unknown
        try {
          raw = await post(url, options.timeoutMs, nextId++, method, params)
        } catch (error) {
          if (!isRequestError(error)) throw error
          throw new StarknetRpcError(
            `${method} rejected by ${failover.activeEndpoint()}: ${describeStarknetError(error)}`,
            error.code,
            error.data,
            { chain: options.chain, method, code: error.code },
          )
        }
        const parsed = schema.safeParse(raw)
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          throw new Error(
            `malformed ${method} response: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`,
          )
        }
        return parsed.data
      })
    },
  }
}

export type StarknetRpc = ReturnType<typeof createStarknetRpc>

/** True for a StarkNet error answer with this code. */
export const hasCode = (error: unknown, code: number) =>
  error instanceof StarknetRpcError && error.code === code

/** One line about an RPC failure, every URL in it redacted. */
export function describeStarknetError(error: unknown): string {
  if (!(error instanceof Error)) return redactUrls(String(error))
  if (error instanceof JsonRpcErrorAnswer) {
    const data = typeof error.data === 'string' ? `: ${error.data.slice(0, 300)}` : ''
    return redactUrls(`${error.code} ${error.message}${data}`)
  }
  if (error.name === 'TimeoutError') return 'timeout: no answer in time'
  const causeCode = (error.cause as { code?: string } | undefined)?.code
  if (error instanceof TypeError && causeCode) return redactUrls(`${causeCode}: ${error.message}`)
  return redactUrls(error.message.split('\n')[0]!)
}
