import { backoffDelay } from '../../../core/bus/retry.ts'
import { NonRetryableError, RetryableError } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logging/logger.ts'

/**
 * Failover between the endpoints of one chain, the same rule for every family: requests go
 * to the active endpoint; a failure (error, timeout, rate limit, malformed answer) puts it in
 * a cool-down that doubles with each consecutive failure (with jitter) and moves to the next
 * healthy one. When every endpoint is cooling down the call fails retryably and the chain's
 * loop backs off; other chains are unaffected since each has its own failover.
 *
 * Failing over is not confirmation: an answer from the endpoint that happens to be up is
 * still one endpoint's word (shared/bridge-detections.md, invariant 6).
 */
export interface EndpointState {
  readonly redacted: string
  failures: number
  coolUntil: number
  lastError: string | undefined
}

/** Every endpoint of a chain failed or is cooling down; the caller retries later. */
export class AllEndpointsFailedError extends RetryableError {
  override name = 'AllEndpointsFailedError'
}

const RATE_LIMITED = /rate.?limit|too many requests|429|exceeded.*(quota|capacity)|-32005/i
const COOL_DOWN_BASE_MS = 500
const COOL_DOWN_MAX_MS = 60_000
const RATE_LIMIT_BASE_MS = 5_000

export interface FailoverOptions<Client> {
  readonly chain: string
  readonly endpoints: readonly { readonly redacted: string; readonly client: Client }[]
  readonly logger: Logger
  /** A one-line description of a failure, with every credential redacted. */
  readonly describe: (error: unknown) => string
  /** Counts each failed call against its endpoint (veridis_chain_rpc_errors_total). */
  readonly onError: (redacted: string) => void
}

export function createFailover<Client>(options: FailoverOptions<Client>) {
  const endpoints: EndpointState[] = options.endpoints.map((endpoint) => ({
    redacted: endpoint.redacted,
    failures: 0,
    coolUntil: 0,
    lastError: undefined,
  }))
  let active = 0

  const pick = (): number | undefined => {
    const now = Date.now()
    for (let offset = 0; offset < endpoints.length; offset++) {
      const index = (active + offset) % endpoints.length
      if (endpoints[index]!.coolUntil <= now) return index
    }
    return undefined
  }

  const fail = (index: number, message: string) => {
    const endpoint = endpoints[index]!
    endpoint.failures++
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
    endpoints: endpoints as readonly Readonly<EndpointState>[],
    /** The endpoint calls go to now, redacted. */
    activeEndpoint: () => endpoints[active]!.redacted,

    /**
     * Runs `attempt` against healthy endpoints until one succeeds. A NonRetryableError from
     * it is about the request, not the endpoint (another endpoint would refuse it too), and
     * is thrown at once; anything else fails the endpoint over.
     */
    async run<T>(what: string, attempt: (client: Client) => Promise<T>): Promise<T> {
      let lastError: unknown
      for (let tries = 0; tries < endpoints.length; tries++) {
        const index = pick()
        if (index === undefined) break
        active = index
        try {
          const result = await attempt(options.endpoints[index]!.client)
          endpoints[index]!.failures = 0
          return result
        } catch (error) {
          if (error instanceof NonRetryableError) throw error
          lastError = error
          fail(index, options.describe(error))
        }
      }
      throw new AllEndpointsFailedError(
        `every RPC endpoint of ${options.chain} failed or is cooling down (${endpoints
          .map((endpoint) => `${endpoint.redacted}: ${endpoint.lastError ?? 'cooling down'}`)
          .join('; ')})`,
        // The raw error can quote the request URL (API keys); only its description travels.
        { cause: new Error(options.describe(lastError)), details: { chain: options.chain, call: what } },
      )
    },
  }
}
