import type { z } from 'zod'
import { type ErrorDetails, NonRetryableError } from '../../../../core/errors.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { createFailover } from '../../common/failover.ts'
import { redactUrl, redactUrls } from '../../common/redact.ts'

/**
 * Solana JSON-RPC over several endpoints of one chain, with the common failover rule
 * (common/failover.ts); every answer validated against its zod schema before anything uses
 * it. Plain HTTP POSTs through Node's fetch, as the EVM and StarkNet clients do: web3.js
 * validates with its own structs and hides what it relies on, a schema here says exactly.
 *
 * The server's answers about a slot (-32004 block not available, -32007 slot skipped,
 * -32009 missing from long-term storage, -32014 status not yet available) and JSON-RPC's
 * request errors are answers about the request, not a failing endpoint: they surface as
 * SolanaRpcError with the code and never fail over.
 */
export const SolanaErrorCode = {
  blockNotAvailable: -32004,
  slotSkipped: -32007,
  longTermStorageSlotSkipped: -32009,
  blockStatusNotAvailableYet: -32014,
  minContextSlotNotReached: -32016,
} as const

const REQUEST_ERRORS = new Set<number>([
  -32600,
  -32601,
  -32602,
  ...Object.values(SolanaErrorCode).filter((code) => code !== SolanaErrorCode.minContextSlotNotReached),
])

export class SolanaRpcError extends NonRetryableError {
  override name = 'SolanaRpcError'
  constructor(
    message: string,
    readonly code: number,
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
  ) {
    super(message)
  }
}

export interface SolanaRpcOptions {
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
  let payload: { result?: unknown; error?: { code?: unknown; message?: unknown } }
  try {
    payload = JSON.parse(text)
  } catch {
    throw new Error(response.ok ? `${method}: the answer is not JSON` : `HTTP ${response.status}`)
  }
  if (payload?.error) {
    throw new JsonRpcErrorAnswer(Number(payload.error.code), String(payload.error.message ?? 'error'))
  }
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`)
  if (typeof payload !== 'object' || payload === null || !('result' in payload)) {
    throw new Error(`${method}: a JSON-RPC answer without a result`)
  }
  return payload.result
}

export function createSolanaRpc(options: SolanaRpcOptions) {
  let nextId = 1
  const failover = createFailover({
    chain: options.chain,
    endpoints: options.urls.map((url) => ({ redacted: redactUrl(url), client: url })),
    logger: options.logger,
    describe: describeSolanaError,
    onError: options.onError,
  })

  return {
    endpoints: failover.endpoints,
    activeUrl: failover.activeEndpoint,

    /** One request (positional params), validated against `schema`; fails over between endpoints. */
    call<S extends z.ZodType>(method: string, params: readonly unknown[], schema: S): Promise<z.output<S>> {
      return failover.run(method, async (url) => {
        let raw: unknown
        try {
          raw = await post(url, options.timeoutMs, nextId++, method, params)
        } catch (error) {
          if (!(error instanceof JsonRpcErrorAnswer) || !REQUEST_ERRORS.has(error.code)) throw error
          throw new SolanaRpcError(
            `${method} rejected by ${failover.activeEndpoint()}: ${describeSolanaError(error)}`,
            error.code,
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

export type SolanaRpc = ReturnType<typeof createSolanaRpc>

/** True for a Solana error answer with one of these codes. */
export const hasCode = (error: unknown, ...codes: number[]) =>
  error instanceof SolanaRpcError && codes.includes(error.code)

/** One line about an RPC failure, every URL in it redacted. */
export function describeSolanaError(error: unknown): string {
  if (!(error instanceof Error)) return redactUrls(String(error))
  if (error instanceof JsonRpcErrorAnswer) return redactUrls(`${error.code} ${error.message.slice(0, 300)}`)
  if (error.name === 'TimeoutError') return 'timeout: no answer in time'
  const causeCode = (error.cause as { code?: string } | undefined)?.code
  if (error instanceof TypeError && causeCode) return redactUrls(`${causeCode}: ${error.message}`)
  return redactUrls(error.message.split('\n')[0]!)
}
