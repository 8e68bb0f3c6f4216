import { FetchRequest, JsonRpcProvider, Network } from 'ethers'
import type { z } from 'zod'
import { NonRetryableError } from '../../../../core/errors.ts'
import type { Logger } from '../../../../core/logging/logger.ts'
import { createFailover } from '../../common/failover.ts'
import { redactUrl, redactUrls } from '../../common/redact.ts'

/**
 * JSON-RPC over several endpoints of one chain, through ethers v6, with the common failover
 * rule (common/failover.ts): a failing or malformed endpoint cools down and the next healthy
 * one answers. Every answer is validated against its schema before anything uses it.
 */

/** The node said the request itself is bad (not the endpoint): retrying elsewhere will not help. */
export class RpcRequestError extends NonRetryableError {
  override name = 'RpcRequestError'
}

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
  const providers = options.urls.map((url) => {
    const request = new FetchRequest(url)
    request.timeout = options.timeoutMs
    // The failover handles 429s; ethers' own throttle retry would hold the chain for minutes.
    request.setThrottleParams({ maxAttempts: 1 })
    const provider = new JsonRpcProvider(request, network, {
      staticNetwork: network,
      batchMaxCount: 1,
      batchStallTime: 0,
    })
    return { redacted: redactUrl(url), client: provider }
  })
  const failover = createFailover({
    chain: options.chain,
    endpoints: providers,
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
      return failover.run(method, async (provider) => {
        let raw: unknown
        try {
          raw = await provider.send(method, params)
        } catch (error) {
          if (!isRequestError(error)) throw error
          throw new RpcRequestError(
            `${method} rejected by ${failover.activeEndpoint()}: ${describeRpcError(error)}`,
            {
              cause: new Error(describeRpcError(error)),
              details: { chain: options.chain, method },
            },
          )
        }
        const parsed = schema.safeParse(raw)
        // A malformed answer is the endpoint's fault: it fails over like an error.
        if (!parsed.success)
          throw new Error(`malformed ${method} response: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
        return parsed.data
      })
    },

    destroy() {
      for (const { client } of providers) client.destroy()
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
