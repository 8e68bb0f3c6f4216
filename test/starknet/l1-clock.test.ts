import { describe, expect, test } from 'vitest'
import { devnetRpcUrl, LOCAL_DEVNET } from '../../infra/stack/starknet-devnet.ts'
import { eventually } from '../support/harness.ts'

/**
 * The stack's devnet reaches FINALIZED: its blocks are accepted on L1 by the stack's L1 clock
 * (service starknet-l1), which the StarkNet listener's finality rule for the local chain
 * waits for. Without the clock a new block stays ACCEPTED_ON_L2 forever, and no use on the
 * local devnet is ever relayed.
 */
async function rpc<T>(method: string, params: unknown = []): Promise<T> {
  const response = await fetch(devnetRpcUrl(LOCAL_DEVNET.port), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const answer = (await response.json()) as { result?: T; error?: { message: string } }
  if (answer.error) throw new Error(`${method}: ${answer.error.message}`)
  return answer.result as T
}

describe('the local devnet’s L1 clock', () => {
  test('behavior: a new block on the stack’s devnet is ACCEPTED_ON_L1 within one settlement interval', async () => {
    const { block_hash: blockHash } = await rpc<{ block_hash: string }>('devnet_createBlock')
    const statusOf = async () =>
      (
        await rpc<{ status: string }>('starknet_getBlockWithTxHashes', {
          block_id: { block_hash: blockHash },
        })
      ).status
    expect(await statusOf()).toBe('ACCEPTED_ON_L2')
    const accepted = await eventually(
      async () => ((await statusOf()) === 'ACCEPTED_ON_L1' ? true : undefined),
      3 * LOCAL_DEVNET.l1SettleMs,
      'the block accepted on L1',
    )
    expect(accepted).toBe(true)
  }, 60_000)
})
