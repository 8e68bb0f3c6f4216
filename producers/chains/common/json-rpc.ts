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
  /**
   * Up to this many calls made in the same turn of the event loop go to an endpoint as one
   * JSON-RPC batch (one HTTP request, answers matched by id). Off when absent: a listener's
   * calls are sequential anyway; the bridge guard asks hundreds at once.
   */
  readonly batchMaxCount?: number
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

type Answer = {
  id?: unknown
  result?: unknown
  error?: { code?: unknown; message?: unknown; data?: unknown }
}

/** The body of an answer, or the HTTP-level failure (not JSON, a non-2xx without a JSON-RPC error). */
async function postJson(url: string, timeoutMs: number, body: unknown, what: string): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  })
  const text = await response.text()
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch {
    throw response.ok
      ? new Error(`${what}: the answer is not JSON`)
      : new HttpStatusError(`HTTP ${response.status} ${response.statusText}`)
  }
  if (!response.ok && !(payload as Answer | null)?.error)
    throw new HttpStatusError(`HTTP ${response.status} ${response.statusText}`)
  return payload
}

/** One call's result out of its answer object. */
function resultOf(answer: Answer | null | undefined, method: string): unknown {
  if (answer?.error) {
    const { code, message, data } = answer.error
    throw new JsonRpcErrorAnswer(Number(code), String(message ?? 'error'), data)
  }
  if (typeof answer !== 'object' || answer === null || !('result' in answer)) {
    throw new Error(`${method}: a JSON-RPC answer without a result`)
  }
  return answer.result
}

async function post(url: string, timeoutMs: number, id: number, method: string, params: unknown) {
  const payload = await postJson(url, timeoutMs, { jsonrpc: '2.0', id, method, params }, method)
  return resultOf(payload as Answer, method)
}

interface Queued {
  readonly id: number
  readonly method: string
  readonly params: unknown
  resolve(result: unknown): void
  reject(error: unknown): void
}

/**
 * Calls to one URL gathered into JSON-RPC batches: everything queued in one turn of the event
 * loop (at most `maxCount` per request) is sent together, and each call gets its own answer
 * (matched by id) or error. A failure of the request itself — timeout, refused connection, an
 * answer that is not a batch — fails every call in it, as it would have failed each alone.
 */
function createBatcher(url: string, timeoutMs: number, maxCount: number) {
  const queue: Queued[] = []
  const flush = () => {
    const batch = queue.splice(0, maxCount)
    if (queue.length > 0) setImmediate(flush)
    if (batch.length === 0) return
    const body = batch.map(({ id, method, params }) => ({ jsonrpc: '2.0', id, method, params }))
    postJson(url, timeoutMs, body, `a batch of ${batch.length}`).then(
      (payload) => {
        const answers = new Map<unknown, Answer>()
        if (Array.isArray(payload)) for (const answer of payload as Answer[]) answers.set(answer?.id, answer)
        else if ((payload as Answer | null)?.error) {
          // A node that refuses batches answers with one error object: every call gets it.
          for (const call of batch) call.reject(new JsonRpcErrorAnswer(-32600, 'batch refused', payload))
          return
        }
        for (const call of batch) {
          try {
            call.resolve(resultOf(answers.get(call.id), call.method))
          } catch (error) {
            call.reject(error)
          }
        }
      },
      (error) => {
        for (const call of batch) call.reject(error)
      },
    )
  }
  return (id: number, method: string, params: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush)
      queue.push({ id, method, params, resolve, reject })
    })
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

  const batchers = new Map<string, ReturnType<typeof createBatcher>>()
  const send = (url: string, method: string, params: Params) => {
    if (!options.batchMaxCount) return post(url, options.timeoutMs, nextId++, method, params)
    let batcher = batchers.get(url)
    if (!batcher) {
      batcher = createBatcher(url, options.timeoutMs, options.batchMaxCount)
      batchers.set(url, batcher)
    }
    return batcher(nextId++, method, params)
  }

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
            () => send(url, method, params),
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
