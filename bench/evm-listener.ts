/**
 * EVM listener benchmark: N contract events (NullifierUsed, from batched recordUses calls)
 * in a few anvil blocks, read by the listener and published to Kafka as Avro, next to the
 * raw `eth_getLogs` fetch of the same range in the same run (the floor: the node's own
 * cost of handing the logs over).
 *
 *   bin/veridis bench evm [--events 10000] [--rounds 3]
 *
 * Two listener paths are timed, each over the same blocks with a fresh cursor:
 *   catch-up  the blocks are already final: bounded eth_getLogs, publish FINALIZED, cursor;
 *   head      the blocks are within the confirmations: headers too, publish PENDING, and the
 *             events kept in Postgres for FINALIZED/RETRACTED later.
 * Throughput is events / (cursor committed − listener step started); Kafka has acknowledged
 * (acks=all) every event by then. Next to them, in the same run, the bus producer publishing
 * the very records the listener produced, alone (no RPC, no normalising, no cursor): the
 * ceiling the listener's catch-up is measured against.
 */
import { createBusProducer } from '../core/bus/producer.ts'
import { chainMetrics } from '../core/metrics/protocol.ts'
import { createChainFollower } from '../producers/chains/common/engine.ts'
import { type ChainEvent, createChainEventPublisher } from '../producers/chains/common/publisher.ts'
import { createCursorStore } from '../producers/chains/common/store/cursor-store.ts'
import { createListenerStateWriter } from '../producers/chains/common/store/listener-state.ts'
import { type EvmChainEntry, resolveChain } from '../producers/chains/evm/config.ts'
import { evmFamily } from '../producers/chains/evm/family.ts'
import { chainEntry, startTestChain } from '../test/evm/support.ts'
import { openTestBus } from '../test/support/harness.ts'
import { median } from './stats.ts'

const PER_TX = 500
const TX_PER_BLOCK = 5

interface Round {
  rawGetLogsMs: number
  producerAloneMs: number
  catchUpMs: number
  headMs: number
}

export async function benchEvmListener(events: number, rounds: number) {
  const chain = await startTestChain({ gasLimit: 3_000_000_000n })
  const testBus = await openTestBus()
  try {
    // Emit the events: PER_TX per transaction, TX_PER_BLOCK transactions per block.
    await chain.rpc('evm_setAutomine', [false])
    const recordUses = chain.contract('NullifierRegistry').getFunction('recordUses')
    const firstBlock = (await chain.blockNumber()) + 1
    const pending = []
    for (let sent = 0, tx = 0; sent < events; sent += PER_TX, tx++) {
      const nullifiers = Array.from({ length: Math.min(PER_TX, events - sent) }, (_, i) =>
        BigInt(sent + i + 1),
      )
      pending.push(await recordUses(77n, nullifiers, 1n, { gasLimit: 30_000_000n }))
      if (tx % TX_PER_BLOCK === TX_PER_BLOCK - 1) await chain.rpc('evm_mine', [])
    }
    await chain.rpc('evm_mine', [])
    await chain.rpc('evm_setAutomine', [true])
    const receipts = await Promise.all(pending.map((tx) => tx.wait()))
    if (receipts.some((receipt) => receipt?.status !== 1))
      throw new Error('bench: a recordUses transaction failed')
    const lastBlock = await chain.blockNumber()
    const blocks = lastBlock - firstBlock + 1

    const { common, bus, pool } = testBus
    const producer = createBusProducer(common, {
      kafka: bus.kafka,
      codec: bus.codec,
      producerName: 'bench-evm',
      topics: [bus.topics.attestation.name, bus.topics.nullifier.name, bus.topics.bridge.name],
    })
    await producer.connect()
    const publisher = createChainEventPublisher({ bus, producer })
    const state = createListenerStateWriter(pool)
    const metrics = chainMetrics(common.metrics.registry)

    /** What the listener published in its warm-up pass, for the producer-alone timing. */
    const sameRecords: ChainEvent[] = []
    const timeProducerAlone = async () => {
      const started = performance.now()
      await publisher.publish(sameRecords)
      return performance.now() - started
    }

    /** Time for a fresh listener to publish [firstBlock, lastBlock]. */
    const timeListener = async (label: string, confirmations: number) => {
      const store = createCursorStore(pool, `${testBus.namespace}-${label}`)
      const entry: EvmChainEntry = chainEntry(chain, {
        startBlock: firstBlock,
        finality: { rule: 'confirmations', confirmations },
        maxBlockRange: 10_000,
        maxHeadBatch: 1_000,
      })
      const resolved = resolveChain(entry)
      if (!('config' in resolved)) throw new Error(resolved.problem)
      let published = 0
      const listener = createChainFollower({
        common,
        source: evmFamily.createSource(resolved.config, {
          logger: common.logger,
          onRpcError: () => undefined,
        }),
        settings: resolved.config,
        store,
        state,
        metrics,
        publish: async (batch) => {
          await publisher.publish(batch)
          published += batch.length
          if (label === 'warmup') sameRecords.push(...batch)
        },
      })
      const controller = new AbortController()
      const started = performance.now()
      const loop = listener.run(controller.signal)
      while ((await store.cursor(chain.chain))?.cursorBlock !== lastBlock) {
        await new Promise((resolve) => setTimeout(resolve, 2))
      }
      const elapsed = performance.now() - started
      controller.abort()
      await loop
      await store.clear(chain.chain)
      if (published < events) throw new Error(`bench: ${label} published ${published} of ${events} events`)
      return elapsed
    }

    const rawGetLogs = async () => {
      const started = performance.now()
      const response = await fetch(chain.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'eth_getLogs',
          params: [
            {
              fromBlock: `0x${firstBlock.toString(16)}`,
              toBlock: `0x${lastBlock.toString(16)}`,
              address: [chain.deployment.contracts.NullifierRegistry],
            },
          ],
        }),
      })
      const body = (await response.json()) as { result: unknown[] }
      const elapsed = performance.now() - started
      if (body.result.length !== events)
        throw new Error(`bench: eth_getLogs returned ${body.result.length} logs`)
      return elapsed
    }

    const results: Round[] = []
    // One unmeasured pass warms the JIT, the producer's connections and the node's caches.
    await timeListener('warmup', 0)
    for (let round = 0; round < rounds; round++) {
      const rawGetLogsMs = await rawGetLogs()
      const producerAloneMs = await timeProducerAlone()
      const catchUpMs = await timeListener(`catchup${round}`, 0)
      // Confirmations beyond the range: every block is near the head, published PENDING.
      const headMs = await timeListener(`head${round}`, blocks + 1_000)
      results.push({ rawGetLogsMs, producerAloneMs, catchUpMs, headMs })
    }
    await producer.disconnect()
    await pool.query('DELETE FROM chain_listener_state WHERE chain = $1', [chain.chain])
    return { events, blocks, rounds: results }
  } finally {
    await testBus.close()
    await chain.stop()
  }
}

export function printEvmListenerBench(result: Awaited<ReturnType<typeof benchEvmListener>>) {
  const raw = median(result.rounds.map((round) => round.rawGetLogsMs))
  const alone = median(result.rounds.map((round) => round.producerAloneMs))
  const catchUp = median(result.rounds.map((round) => round.catchUpMs))
  const head = median(result.rounds.map((round) => round.headMs))
  const rate = (ms: number) => Math.round(result.events / (ms / 1000)).toLocaleString('en-US')
  const lines = [
    `EVM listener: ${result.events} NullifierUsed events in ${result.blocks} anvil blocks, median of ${result.rounds.length} rounds`,
    `  raw eth_getLogs (fetch + JSON)      ${raw.toFixed(0).padStart(7)} ms  ${rate(raw).padStart(9)} events/s`,
    `  bus producer alone, same records    ${alone.toFixed(0).padStart(7)} ms  ${rate(alone).padStart(9)} events/s`,
    `  listener catch-up → Kafka (FINAL)   ${catchUp.toFixed(0).padStart(7)} ms  ${rate(catchUp).padStart(9)} events/s  (${(catchUp / raw).toFixed(1)}x raw; ${(alone / catchUp).toFixed(2)} of the producer alone, goal ≥ 0.5)`,
    `  listener head → Kafka (PENDING+PG)  ${head.toFixed(0).padStart(7)} ms  ${rate(head).padStart(9)} events/s  (${(head / raw).toFixed(1)}x raw)`,
    ...result.rounds.map(
      (round, i) =>
        `  round ${i + 1}: raw ${round.rawGetLogsMs.toFixed(0)} ms, producer alone ${round.producerAloneMs.toFixed(0)} ms, catch-up ${round.catchUpMs.toFixed(0)} ms, head ${round.headMs.toFixed(0)} ms`,
    ),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}
