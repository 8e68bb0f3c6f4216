import { type ErrorDetails, NonRetryableError } from '../../../../core/errors.ts'
import {
  createJsonRpcClient,
  describeRpcFailure,
  type JsonRpcClientOptions,
  type JsonRpcErrorAnswer,
} from '../../common/json-rpc.ts'

/**
 * CometBFT JSON-RPC (0.38/0.39) over several endpoints of one Cosmos chain, through the common
 * transport (common/json-rpc.ts) and failover rule (common/failover.ts). Every answer is
 * validated against its zod schema before anything uses it. Plain HTTP POSTs, as the EVM and
 * StarkNet clients do: the listener needs `status`, `blockchain`, `tx_search`, `tx`,
 * `abci_query` and `broadcast_tx_sync`, and a schema of its own for each answer says exactly
 * what it relies on.
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

/** CometBFT's explanation of an error answer ('' when it gives none). */
const dataOf = (answer: JsonRpcErrorAnswer) => (typeof answer.data === 'string' ? answer.data : '')

/**
 * CometBFT answers a request it cannot serve with -32603 and the reason in `data`, and a
 * malformed one with -32600..-32602. An error without `data` (a proxy's, an overloaded node's)
 * is the endpoint's problem and fails over.
 */
const isRequestError = (answer: JsonRpcErrorAnswer) =>
  [-32600, -32601, -32602].includes(answer.code) || (answer.code === -32603 && dataOf(answer) !== '')

export function createCometRpc(options: JsonRpcClientOptions) {
  // Params by name.
  return createJsonRpcClient<Record<string, unknown>>({
    ...options,
    describe: describeCometError,
    rejection: (answer, { chain, method, message }) =>
      isRequestError(answer)
        ? new CometRpcError(message, answer.code, dataOf(answer), { chain, method, code: answer.code })
        : undefined,
  })
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
  return describeRpcFailure(error, (answer) => {
    const data = dataOf(answer)
    return `${answer.code} ${answer.message}${data ? `: ${data.slice(0, 300)}` : ''}`
  })
}
