/**
 * The local Polkadot-family node as a process: chopsticks (`@acala-network/chopsticks`
 * 1.5.1) started from the raw chain spec of Rococo Asset Hub that
 * `@substrate/connect-known-chains` ships (runtime `statemine` spec 900, Aura, so
 * chopsticks' `--genesis` can build on it offline), on loopback, plus a block clock: chopsticks
 * only builds blocks when transactions arrive or `dev_newBlock` asks, and a chain whose head
 * stands still never lets anything become final under a confirmations rule.
 *
 *   tsx infra/stack/chopsticks-node.ts --port <p> [--db <file>] [--block-ms <ms>]
 *
 * `--db` keeps blocks and storage in sqlite and resumes from the newest stored block on the
 * next start; `--block-ms 0` builds blocks only on demand (tests that make forks).
 */
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { BuildBlockMode, GenesisProvider, setStorage, setupWithServer } from '@acala-network/chopsticks'
import { chainSpec } from '@substrate/connect-known-chains/rococo_v2_2_asset_hub'

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    db: { type: 'string' },
    'block-ms': { type: 'string', default: '1000' },
    'genesis-hash': { type: 'string' },
  },
})
const port = Number(values.port)
if (!Number.isInteger(port) || port <= 0) throw new Error('--port <port> is required')
const blockMs = Number(values['block-ms'])

/*
 * chopsticks gives a chain started from a spec the runtime's own genesis marker as block 0's
 * hash: 0x4545…45 (frame_system stores BlockHash(0) = [69; 32] at genesis), so every such node
 * has the same CAIP-2 id. `--genesis-hash` gives a node an identity of its own (tests run
 * several side by side): block 0 is announced under that hash and BlockHash(0) — what
 * signed transactions commit to (CheckGenesis) — is set to it.
 */
const genesisHash = values['genesis-hash']
if (genesisHash !== undefined) {
  if (!/^0x[0-9a-f]{64}$/.test(genesisHash)) throw new Error('--genesis-hash must be 0x + 64 hex digits')
  Object.defineProperty(GenesisProvider.prototype, 'blockHash', { get: () => genesisHash })
}

// chopsticks reads a chain spec from a path or URL.
const specFile = path.join(tmpdir(), `veridis-chopsticks-spec-${process.pid}.json`)
writeFileSync(specFile, chainSpec)

const context = await setupWithServer({
  genesis: specFile,
  host: '127.0.0.1',
  port,
  'build-block-mode': BuildBlockMode.Batch,
  ...(values.db ? { db: values.db, resume: true } : {}),
  'runtime-log-level': 0,
} as Parameters<typeof setupWithServer>[0])

if (genesisHash !== undefined) {
  await setStorage(context.chain, { System: { BlockHash: [[[0], genesisHash]] } })
}

let timer: NodeJS.Timeout | undefined
let building = false
if (blockMs > 0) {
  timer = setInterval(() => {
    if (building) return
    building = true
    context.chain
      .newBlock()
      .catch((error: unknown) => console.error(`block clock: ${String(error)}`))
      .finally(() => {
        building = false
      })
  }, blockMs)
}

const shutdown = async () => {
  if (timer) clearInterval(timer)
  await context.close().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
console.log(`veridis: chopsticks ready on ws://127.0.0.1:${port}`)
