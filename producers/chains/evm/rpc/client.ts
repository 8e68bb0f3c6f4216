import type { z } from 'zod'
import { NonRetryableError } from '../../../../core/errors.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { createFailover } from '../../common/failover.ts'
import { redactUrl, redactUrls } from '../../common/redact.ts'

/**
 * JSON-RPC over several endpoints of one chain, with the common failover rule
 * (common/failover.ts): a failing or malformed endpoint cools down and the next healthy one
 * answers. Every answer is validated against its schema before anything uses it.
 *
 * Requests are plain HTTP POSTs through Node's fetch rather than ethers' JsonRpcProvider:
 * ethers decodes every response body with its own JavaScript UTF-8 decoder before parsing
 * it, which for an eth_getLogs answer of 10,000 logs cost several times the fetch itself and
 * was most of the listener's catch-up time (bench/evm-listener.ts, docs/benchmarks.md).
 */

/** The node said the request itself is bad (not the endpoint): retrying elsewhere will not help. */
export class RpcRequestError extends NonRetryableError {
  override name = 'RpcRequestError'
}

/** A JSON-RPC error object in the answer (`{ error: { code, message } }`). */
class JsonRpcErrorAnswer extends Error {
  override name = 'JsonRpcErrorAnswer'
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

/** A non-2xx HTTP answer without a JSON-RPC error in it (429, 5xx, a proxy's error page). */
class HttpStatusError extends Error {
  override name = 'HttpStatusError'
}

export interface RpcClientOptions {
  readonly chain: string
  readonly urls: readonly string[]
  readonly timeoutMs: number
  readonly logger: Logger
  /** Counts each failed call against its endpoint (veridis_chain_rpc_errors_total). */
  readonly onError: (redactedUrl: string) => void
}

function errorIn(payload: unknown): JsonRpcErrorAnswer | undefined {
  const error = (payload as { error?: { code?: unknown; message?: unknown } } | null)?.error
  if (error === undefined || error === null) return undefined
  return new JsonRpcErrorAnswer(Number(error.code), String(error.message ?? 'error'))
}

async function post(url: string, timeoutMs: number, id: number, method: string, params: unknown[]) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch {
    throw response.ok
      ? new Error(`${method}: the answer is not JSON`)
      : new HttpStatusError(`HTTP ${response.status} ${response.statusText}`)
  }
  const error = errorIn(payload)
  if (error) throw error
  if (!response.ok) throw new HttpStatusError(`HTTP ${response.status} ${response.statusText}`)
  if (typeof payload !== 'object' || payload === null || !('result' in payload)) {
    throw new Error(`${method}: a JSON-RPC answer without a result`)
  }
  return payload.result
}

export function createRpcClient(options: RpcClientOptions) {
  let nextId = 1
  const failover = createFailover({
    chain: options.chain,
    endpoints: options.urls.map((url) => ({ redacted: redactUrl(url), client: url })),
    logger: options.logger,
    describe: describeRpcError,
    onError: options.onError,
  })

  return {
    chain: options.chain,
    endpoints: failover.endpoints,
    activeUrl: failover.activeEndpoint,

    /** One request, validated against `schema`; fails over between endpoints. */
    call<S extends z.ZodType>(method: string, params: unknown[], schema: S): Promise<z.output<S>> {
      return failover.run(method, async (url) => {
        let raw: unknown
        try {
          raw = await post(url, options.timeoutMs, nextId++, method, params)
        } catch (error) {
          if (!isRequestError(error)) throw error
          throw new RpcRequestError(
            `${method} rejected by ${failover.activeEndpoint()}: ${describeRpcError(error)}`,
            { cause: new Error(describeRpcError(error)), details: { chain: options.chain, method } },
          )
        }
        const parsed = schema.safeParse(raw)
        // A malformed answer is the endpoint's fault: it fails over like an error.
        if (!parsed.success) {
          throw new Error(`malformed ${method} response: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
        }
        return parsed.data
      })
    },

    /** Nothing to release: requests hold no connection beyond their own. */
    destroy() {},
  }
}

/** "Range too large" style answers: the request must be split, the endpoint is fine. */
export function isRangeTooLarge(error: unknown): boolean {
  return /range|too many|more than|exceed|limit.*results|response size|block range/i.test(
    describeRpcError(error),
  )
}

function isRequestError(error: unknown): boolean {
  // JSON-RPC invalid request, unknown method and invalid params are about the request. A
  // range that is too large is reported the same way, and the caller splits it.
  if (!(error instanceof JsonRpcErrorAnswer)) return false
  return error.code === -32602 || error.code === -32600 || error.code === -32601
}

/** A one-line description of an RPC failure, with every URL in it redacted. */
export function describeRpcError(error: unknown): string {
  return redactUrls(rawDescription(error))
}

function rawDescription(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  if (error instanceof JsonRpcErrorAnswer) return `${error.code} ${error.message}`
  if (error.name === 'TimeoutError') return 'timeout: no answer in time'
  // fetch reports a refused or reset connection as "fetch failed" with the reason as cause.
  const causeCode = (error.cause as { code?: string } | undefined)?.code
  if (error instanceof TypeError && causeCode) return `${causeCode}: ${error.message}`
  const payload = (error as { error?: { code?: number; message?: string } }).error
  if (payload?.message) return `${payload.code ?? ''} ${payload.message}`.trim()
  const code = (error as { code?: string }).code
  // ethers' messages can include the request body; the first line names the failure.
  const message = error.message
    .split('\n')[0]!
    .replace(/\(request=.*$/, '')
    .trim()
  return code ? `${code}: ${message}` : message
}
