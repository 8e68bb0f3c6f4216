import type { z } from 'zod'
import { type ErrorDetails, NonRetryableError } from '../../../../core/errors.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { createFailover } from '../../common/failover.ts'
import { redactUrl, redactUrls } from '../../common/redact.ts'

/**
 * CometBFT JSON-RPC (0.38/0.39) over several endpoints of one Cosmos chain, with the common
 * failover rule (common/failover.ts). Every answer is validated against its zod schema before
 * anything uses it. Plain HTTP POSTs through Node's fetch, as the EVM and StarkNet clients do:
 * the listener needs `status`, `blockchain`, `tx_search`, `tx`, `abci_query` and
 * `broadcast_tx_sync`, and a schema of its own for each answer says exactly what it relies on.
 * (cosmjs's Comet38/Comet1 clients were tried against CometBFT 0.39 and their websocket
 * subscriptions delivered nothing: shared/chains-offline.md; cosmjs signs the writer's
 * transactions.)
 *
 * An error answer (JSON-RPC `error` with CometBFT's explanation in `data`: "height 9 must be
 * less than or equal to the current blockchain height 8", "tx (…) not found") is the node's word
 * about the request, not a failing endpoint: it surfaces as CometRpcError and never fails over.
 */
export class CometRpcError extends NonRetryableError {
  override name = 'CometRpcError'
  constructor(
    message: string,
    readonly code: number,
    readonly data: string,
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
    readonly data: string,
  ) {
    super(message)
  }
}

export interface CometRpcOptions {
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
      typeof payload.error.data === 'string' ? payload.error.data : '',
    )
  }
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`)
  if (typeof payload !== 'object' || payload === null || !('result' in payload)) {
    throw new Error(`${method}: a JSON-RPC answer without a result`)
  }
  return payload.result
}

/**
 * CometBFT answers a request it cannot serve with -32603 and the reason in `data`, and a
 * malformed one with -32600..-32602. An error without `data` (a proxy's, an overloaded node's)
 * is the endpoint's problem and fails over.
 */
const isRequestError = (error: unknown): error is JsonRpcErrorAnswer =>
  error instanceof JsonRpcErrorAnswer &&
  ([-32600, -32601, -32602].includes(error.code) || (error.code === -32603 && error.data !== ''))

export function createCometRpc(options: CometRpcOptions) {
  let nextId = 1
  const failover = createFailover({
    chain: options.chain,
    endpoints: options.urls.map((url) => ({ redacted: redactUrl(url), client: url })),
    logger: options.logger,
    describe: describeCometError,
    onError: options.onError,
  })

  return {
    endpoints: failover.endpoints,
    activeUrl: failover.activeEndpoint,

    /** One request (params by name), validated against `schema`; fails over between endpoints. */
    call<S extends z.ZodType>(
      method: string,
      params: Record<string, unknown>,
      schema: S,
    ): Promise<z.output<S>> {
      return failover.run(method, async (url) => {
        let raw: unknown
        try {
          raw = await post(url, options.timeoutMs, nextId++, method, params)
        } catch (error) {
          if (!isRequestError(error)) throw error
          throw new CometRpcError(
            `${method} rejected by ${failover.activeEndpoint()}: ${describeCometError(error)}`,
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

export type CometRpc = ReturnType<typeof createCometRpc>

/** True for CometBFT's answer that a height is above what the node has (it is behind, or the block is not yet made). */
export const isHeightAboveHead = (error: unknown) =>
  error instanceof CometRpcError &&
  /must be less than or equal to the current blockchain height/i.test(error.data)

/** True for CometBFT's answer that it knows no transaction with that hash. */
export const isTxNotFound = (error: unknown) =>
  error instanceof CometRpcError && /tx \(\w+\) not found|not found/i.test(error.data)

/** One line about an RPC failure, every URL in it redacted. */
export function describeCometError(error: unknown): string {
  if (!(error instanceof Error)) return redactUrls(String(error))
  if (error instanceof JsonRpcErrorAnswer) {
    return redactUrls(`${error.code} ${error.message}${error.data ? `: ${error.data.slice(0, 300)}` : ''}`)
  }
  if (error.name === 'TimeoutError') return 'timeout: no answer in time'
  const causeCode = (error.cause as { code?: string } | undefined)?.code
  if (error instanceof TypeError && causeCode) return redactUrls(`${causeCode}: ${error.message}`)
  return redactUrls(error.message.split('\n')[0]!)
}
