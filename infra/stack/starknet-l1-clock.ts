/**
 * The local devnet's stand-in for Ethereum settlement: a StarkNet block is final once its
 * state update is proven on L1 (ACCEPTED_ON_L1), and starknet-devnet has no L1, so its blocks
 * stay ACCEPTED_ON_L2 — PENDING to the listener — until `devnet_acceptOnL1` says otherwise.
 * This clock says so every `--every-ms`, for every block made since, so that nullifier uses
 * on the local devnet become FINALIZED (and are relayed) within that interval. Real networks
 * take hours; the listener treats both alike.
 *
 *   tsx infra/stack/starknet-l1-clock.ts --rpc http://127.0.0.1:15050/rpc [--every-ms 10000]
 */
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: { rpc: { type: 'string' }, 'every-ms': { type: 'string', default: '10000' } },
})
const rpcUrl = values.rpc
const everyMs = Number(values['every-ms'])
if (!rpcUrl || !Number.isInteger(everyMs) || everyMs < 100) {
  throw new Error('usage: starknet-l1-clock.ts --rpc <devnet /rpc URL> [--every-ms <≥100>]')
}

/** The only answer that is not a failure: nothing new since the last acceptance. */
const NOTHING_NEW = /already accepted/i

let stopping = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => (stopping = true))

async function settle(): Promise<void> {
  const response = await fetch(rpcUrl!, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'devnet_acceptOnL1',
      params: { starting_block_id: 'latest' },
    }),
    signal: AbortSignal.timeout(Math.max(everyMs, 5_000)),
  })
  const answer = (await response.json()) as { result?: { accepted?: string[] }; error?: { message?: string } }
  if (answer.error && !NOTHING_NEW.test(answer.error.message ?? '')) {
    throw new Error(`devnet_acceptOnL1: ${answer.error.message ?? 'error'}`)
  }
  const accepted = answer.result?.accepted?.length ?? 0
  if (accepted > 0) console.log(JSON.stringify({ time: new Date().toISOString(), acceptedOnL1: accepted }))
}

console.log(JSON.stringify({ time: new Date().toISOString(), msg: 'L1 clock started', rpcUrl, everyMs }))
while (!stopping) {
  // The devnet may be starting or restarting: say so and try again at the next tick.
  await settle().catch((error: unknown) =>
    console.error(JSON.stringify({ time: new Date().toISOString(), error: String(error) })),
  )
  const tick = Date.now() + everyMs
  while (!stopping && Date.now() < tick) await new Promise((resolve) => setTimeout(resolve, 200))
}
