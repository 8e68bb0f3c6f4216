import { FetchRequest, JsonRpcProvider, Network } from 'ethers'
import type { z } from 'zod'
import { backoffDelay } from '../../../../core/bus/retry.ts'
import { NonRetryableError, RetryableError } from '../../../../core/errors.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { redactRpcUrl } from '../config.ts'

/**
 * JSON-RPC over several endpoints of one chain, through ethers v6. Requests go to the
 * active endpoint; a failure (error, timeout, rate limit) puts that endpoint in a cool-down
 * that doubles with each consecutive failure (with jitter) and moves to the next healthy
 * one. When every endpoint is cooling down the call fails retryably and the chain's loop
 * backs off; other chains are unaffected since each has its own client.
 */
export interface RpcEndpointState {
  readonly url: string
  readonly redacted: string
  failures: number
  coolUntil: number
  lastError: string | undefined
}

export class RpcCallError extends RetryableError {
  override name = 'RpcCallError'
}

/** The node said the request itself is bad (not the endpoint): retrying elsewhere will not help. */
export class RpcRequestError extends NonRetryableError {
  override name = 'RpcRequestError'
}

const RATE_LIMITED = /rate.?limit|too many requests|429|exceeded.*(quota|capacity)|-32005/i
const COOL_DOWN_BASE_MS = 500
const COOL_DOWN_MAX_MS = 60_000
const RATE_LIMIT_BASE_MS = 5_000

export interface RpcClientOptions {
  readonly chain: string
  readonly chainId: bigint
  readonly urls: readonly string[]
  readonly timeoutMs: number
  readonly logger: Logger
  /** Counts each failed call against its endpoint (veridis_chain_rpc_errors_total). */
  readonly onError: (redactedUrl: string) => void
}

export function createRpcClient(options: RpcClientOptions) {
  const network = Network.from(options.chainId)
  const endpoints: RpcEndpointState[] = options.urls.map((url) => ({
    url,
    redacted: redactRpcUrl(url),
    failures: 0,
    coolUntil: 0,
    lastError: undefined,
  }))
  const providers = endpoints.map((endpoint) => {
    const request = new FetchRequest(endpoint.url)
    request.timeout = options.timeoutMs
    // Our failover handles 429s; ethers' own throttle retry would hold the chain for minutes.
    request.setThrottleParams({ maxAttempts: 1 })
    return new JsonRpcProvider(request, network, {
      staticNetwork: network,
      batchMaxCount: 1,
      batchStallTime: 0,
    })
  })
  let active = 0

  const pick = (): number | undefined => {
    const now = Date.now()
    for (let offset = 0; offset < endpoints.length; offset++) {
      const index = (active + offset) % endpoints.length
      if (endpoints[index]!.coolUntil <= now) return index
    }
    return undefined
  }

  const fail = (index: number, error: unknown) => {
    const endpoint = endpoints[index]!
    endpoint.failures++
    const message = describeRpcError(error)
    const rateLimited = RATE_LIMITED.test(message)
    const delay = backoffDelay(
      endpoint.failures,
      rateLimited ? RATE_LIMIT_BASE_MS : COOL_DOWN_BASE_MS,
      COOL_DOWN_MAX_MS,
      () => 0.5 + Math.random() / 2,
    )
    endpoint.coolUntil = Date.now() + delay
    endpoint.lastError = message
    options.onError(endpoint.redacted)
    const next = endpoints.length > 1 ? endpoints[(index + 1) % endpoints.length]!.redacted : undefined
    options.logger.warn(
      {
        chain: options.chain,
        rpc: endpoint.redacted,
        error: message,
        rateLimited,
        failures: endpoint.failures,
        coolDownMs: delay,
        failoverTo: next,
      },
      next ? 'RPC endpoint failed; failing over' : 'RPC endpoint failed',
    )
    if (index === active && endpoints.length > 1) active = (index + 1) % endpoints.length
  }

  return {
    chain: options.chain,
    endpoints: endpoints as readonly RpcEndpointState[],
    /** The endpoint calls go to now, redacted. */
    activeUrl: () => endpoints[active]!.redacted,

    /** One request, validated against `schema`; fails over between endpoints. */
    async call<S extends z.ZodType>(method: string, params: unknown[], schema: S): Promise<z.output<S>> {
      let lastError: unknown
      for (let attempt = 0; attempt < endpoints.length; attempt++) {
        const index = pick()
        if (index === undefined) break
        active = index
        let raw: unknown
        try {
          raw = await providers[index]!.send(method, params)
        } catch (error) {
          if (isRequestError(error)) {
            throw new RpcRequestError(
              `${method} rejected by ${endpoints[index]!.redacted}: ${describeRpcError(error)}`,
              {
                cause: new Error(describeRpcError(error)),
                details: { chain: options.chain, method },
              },
            )
          }
          lastError = error
          fail(index, error)
          continue
        }
        const parsed = schema.safeParse(raw)
        if (!parsed.success) {
          // A malformed answer is the endpoint's fault: count it and try another.
          lastError = new Error(
            `malformed ${method} response: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
          )
          fail(index, lastError)
          continue
        }
        endpoints[index]!.failures = 0
        return parsed.data
      }
      throw new RpcCallError(
        `every RPC endpoint of ${options.chain} failed or is cooling down (${endpoints
          .map((endpoint) => `${endpoint.redacted}: ${endpoint.lastError ?? 'cooling down'}`)
          .join('; ')})`,
        // The raw ethers error can quote the request URL (API keys); only its description travels.
        { cause: new Error(describeRpcError(lastError)), details: { chain: options.chain, method } },
      )
    },

    destroy() {
      for (const provider of providers) provider.destroy()
    },
  }
}

export type RpcClient = ReturnType<typeof createRpcClient>

/** "Range too large" style answers: the request must be split, the endpoint is fine. */
export function isRangeTooLarge(error: unknown): boolean {
  return /range|too many|more than|exceed|limit.*results|response size|block range/i.test(
    describeRpcError(error),
  )
}

function isRequestError(error: unknown): boolean {
  // JSON-RPC invalid params (-32602) and execution errors are about the request. A range
  // that is too large is reported the same way, and the caller splits it.
  const code = (error as { error?: { code?: number } })?.error?.code
  return code === -32602 || code === -32600 || code === -32601
}

/** Any URL in a message, reduced to what redactRpcUrl shows. */
const redactUrls = (text: string) =>
  text.replace(/\b(?:https?|wss?):\/\/[^\s"',)}]+/g, (url) => redactRpcUrl(url))

/** A one-line description of an RPC failure, with every URL in it redacted. */
export function describeRpcError(error: unknown): string {
  return redactUrls(rawDescription(error))
}

function rawDescription(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
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
