import type { z } from 'zod'
import type { NonRetryableError } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logging/logger.ts'
import { inSpan, SPAN_KIND } from '../../../core/tracing/tracing.ts'
import { createFailover } from './failover.ts'
import { redactUrl, redactUrls } from './redact.ts'

/**
 * JSON-RPC 2.0 over plain HTTP POSTs (Node's fetch) to the endpoints of one chain, with the
 * common failover rule (failover.ts): the transport the EVM, StarkNet, Cosmos (CometBFT) and
 * Solana clients share. Every answer is validated against its zod schema before anything uses
 * it; a malformed answer is the endpoint's fault and fails over like an error.
 *
 * What differs by family stays in the family's rpc/client.ts: which error answers are the
 * node's word about the request (thrown at once as the family's NonRetryableError, never
 * failed over) and how an error answer is described.
 */

/** A JSON-RPC error object in an answer (`{ error: { code, message, data } }`). */
export class JsonRpcErrorAnswer extends Error {
  override name = 'JsonRpcErrorAnswer'
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message)
  }
}

/** A non-2xx HTTP answer without a JSON-RPC error in it (429, 5xx, a proxy's error page). */
class HttpStatusError extends Error {
  override name = 'HttpStatusError'
}

export interface JsonRpcClientOptions {
  readonly chain: string
  readonly urls: readonly string[]
  readonly timeoutMs: number
  readonly logger: Logger
  /** Counts each failed call against its endpoint (veridis_chain_rpc_errors_total). */
  readonly onError: (redactedUrl: string) => void
}

interface JsonRpcFamily {
  /** One line about a failure, every URL in it redacted (the family's describeRpcFailure). */
  readonly describe: (error: unknown) => string
  /**
   * The family's error for an answer about the request itself, thrown at once since another
   * endpoint would refuse it too; undefined when the answer is the endpoint's problem, which
   * fails over. `message` names the method, the endpoint (redacted) and the answer.
   */
  readonly rejection: (
    answer: JsonRpcErrorAnswer,
    request: { readonly chain: string; readonly method: string; readonly message: string },
  ) => NonRetryableError | undefined
}

async function post(url: string, timeoutMs: number, id: number, method: string, params: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let payload: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } } | null
  try {
    payload = JSON.parse(text)
  } catch {
    throw response.ok
      ? new Error(`${method}: the answer is not JSON`)
      : new HttpStatusError(`HTTP ${response.status} ${response.statusText}`)
  }
  if (payload?.error) {
    const { code, message, data } = payload.error
    throw new JsonRpcErrorAnswer(Number(code), String(message ?? 'error'), data)
  }
  if (!response.ok) throw new HttpStatusError(`HTTP ${response.status} ${response.statusText}`)
  if (typeof payload !== 'object' || payload === null || !('result' in payload)) {
    throw new Error(`${method}: a JSON-RPC answer without a result`)
  }
  return payload.result
}

export function createJsonRpcClient<Params>(options: JsonRpcClientOptions & JsonRpcFamily) {
  let nextId = 1
  const failover = createFailover({
    chain: options.chain,
    endpoints: options.urls.map((url) => ({ redacted: redactUrl(url), client: url })),
    logger: options.logger,
    describe: options.describe,
    onError: options.onError,
  })

  return {
    endpoints: failover.endpoints,
    activeUrl: failover.activeEndpoint,

    /** One request, validated against `schema`; fails over between endpoints. */
    call<S extends z.ZodType>(method: string, params: Params, schema: S): Promise<z.output<S>> {
      return failover.run(method, async (url) => {
        let raw: unknown
        try {
          // A span per attempt, so a failover shows as two; the endpoint only as redacted.
          raw = await inSpan(
            method,
            {
              kind: SPAN_KIND.CLIENT,
              attributes: {
                'rpc.system.name': 'jsonrpc',
                'rpc.method': method,
                'veridis.chain': options.chain,
                'veridis.rpc.endpoint': failover.activeEndpoint(),
              },
            },
            () => post(url, options.timeoutMs, nextId++, method, params),
          )
        } catch (error) {
          if (!(error instanceof JsonRpcErrorAnswer)) throw error
          const message = `${method} rejected by ${failover.activeEndpoint()}: ${options.describe(error)}`
          throw options.rejection(error, { chain: options.chain, method, message }) ?? error
        }
        const parsed = schema.safeParse(raw)
        // A malformed answer is the endpoint's fault: it fails over like an error.
        if (!parsed.success) {
          const issue = parsed.error.issues[0]
          const where = issue?.path.length ? `${issue.path.join('.')} ` : ''
          throw new Error(`malformed ${method} response: ${where}${issue?.message ?? 'invalid'}`)
        }
        return parsed.data
      })
    },
  }
}

/**
 * One line about an RPC failure, every URL in it redacted: the family's words for a JSON-RPC
 * error answer, a timeout, a refused or reset connection, or else `other` (the first line of
 * the message).
 */
export function describeRpcFailure(
  error: unknown,
  describeAnswer: (answer: JsonRpcErrorAnswer) => string,
  other: (error: Error) => string = (error) => error.message.split('\n')[0]!,
): string {
  if (!(error instanceof Error)) return redactUrls(String(error))
  if (error instanceof JsonRpcErrorAnswer) return redactUrls(describeAnswer(error))
  if (error.name === 'TimeoutError') return 'timeout: no answer in time'
  // fetch reports a refused or reset connection as "fetch failed" with the reason as cause.
  const causeCode = (error.cause as { code?: string } | undefined)?.code
  if (error instanceof TypeError && causeCode) return redactUrls(`${causeCode}: ${error.message}`)
  return redactUrls(other(error))
}
