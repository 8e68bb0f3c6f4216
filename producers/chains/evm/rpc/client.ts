import { NonRetryableError } from '../../../../core/errors.ts'
import {
  createJsonRpcClient,
  describeRpcFailure,
  type JsonRpcClientOptions,
  type JsonRpcErrorAnswer,
} from '../../common/json-rpc.ts'

/**
 * EVM JSON-RPC over several endpoints of one chain, through the common transport
 * (common/json-rpc.ts) and failover rule (common/failover.ts): a failing or malformed endpoint
 * cools down and the next healthy one answers. Every answer is validated against its schema
 * before anything uses it.
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

export function createRpcClient(options: JsonRpcClientOptions) {
  const client = createJsonRpcClient<unknown[]>({
    ...options,
    describe: describeRpcError,
    rejection: (answer, { chain, method, message }) =>
      isRequestError(answer)
        ? new RpcRequestError(message, {
            cause: new Error(describeRpcError(answer)),
            details: { chain, method },
          })
        : undefined,
  })
  return {
    chain: options.chain,
    ...client,
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

// JSON-RPC invalid request, unknown method and invalid params are about the request. A range
// that is too large is reported the same way, and the caller splits it.
const isRequestError = (answer: JsonRpcErrorAnswer) =>
  answer.code === -32602 || answer.code === -32600 || answer.code === -32601

/** A one-line description of an RPC failure, with every URL in it redacted. */
export function describeRpcError(error: unknown): string {
  return describeRpcFailure(error, (answer) => `${answer.code} ${answer.message}`, describeEthersError)
}

/** Any other error, ethers' among them (the websocket heads): the node's answer or the error's code, and its first line. */
function describeEthersError(error: Error): string {
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
