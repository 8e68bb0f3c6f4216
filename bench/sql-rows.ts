/**
 * How a chunk of rows reaches Postgres as one parameter (core/db/json-rows.ts), measured where
 * it costs: the Postgres backend's own CPU time, read from /proc for the one connection the
 * bench uses, so the load generator, Kafka and the other backends do not count.
 *
 *   bin/veridis bench sql-rows [--events 60000] [--batch 600] [--rounds 3]
 *
 * The ledger's own chunk upsert (consumers/ledger/project.ts: 13 columns, the bench's
 * ledger-shaped rows) with its rows in three forms, into a temporary copy of its table with
 * the same primary key and indexes. The forms take turns chunk by chunk, so that the host's
 * noise falls on all of them alike: JSON objects opened by `jsonb_to_recordset` (the form
 * the consumers used before; the baseline), the same objects by `json_to_recordset`, and
 * positional tuples (`jsonRows`).
 * Per row: the backend's CPU (µs, from 10-ms ticks summed over all chunks of a form), the
 * statement's wall time seen by the client, and Node's JSON.stringify of the parameter. A
 * temporary table writes no WAL, so the figures understate a real insert's total; the
 * forms differ only in how the parameter is read.
 */
import pg from 'pg'
import {
  CHAIN_EVENT_ROWS,
  type ChainEventValue,
  chainEventRow,
  upsertChainEventsSql,
} from '../consumers/ledger/project.ts'
import type { ConsumedMessage } from '../core/bus/consumer.ts'
import { loadConfig } from '../core/config/env.ts'
import { randomNamespace, testEnv } from '../test/support/harness.ts'
import { sampleAttestation, sampleBridge, sampleNullifier } from '../test/support/records.ts'
import { processTreeCpuMs } from './process-cpu.ts'
import { median } from './stats.ts'

const RECORDSET_COLUMNS = `(event_id text, topic text, kind text, chain text, block_number bigint,
  block_hash text, tx_hash text, log_index int, emitter text, finality text, observed_ms float8,
  kafka_partition int, kafka_offset text)`

interface Form {
  readonly name: string
  /** The ledger's upsert, reading this form's parameter. */
  readonly sql: string
  readonly encode: (rows: readonly LedgerRow[]) => string
}

const FORMS: readonly Form[] = [
  {
    name: 'jsonb objects (jsonb_to_recordset)',
    sql: upsertChainEventsSql(`jsonb_to_recordset($1::jsonb) AS e${RECORDSET_COLUMNS}`),
    encode: (rows) => JSON.stringify(rows),
  },
  {
    name: 'json objects (json_to_recordset)',
    sql: upsertChainEventsSql(`json_to_recordset($1::json) AS e${RECORDSET_COLUMNS}`),
    encode: (rows) => JSON.stringify(rows),
  },
  {
    name: 'jsonb tuples (jsonRows)',
    sql: upsertChainEventsSql(`${CHAIN_EVENT_ROWS.from('$1')} AS e`),
    encode: CHAIN_EVENT_ROWS.param,
  },
]

type LedgerRow = ReturnType<typeof chainEventRow>

/** Ledger rows as the ledger builds them, from the bench's chain events. */
function ledgerRows(count: number, run: string, form: number): LedgerRow[] {
  return Array.from({ length: count }, (_, i) => {
    // Distinct events per form: every insert is a new row, as in the ledger.
    const n = i * FORMS.length + form
    const [topic, value] =
      n % 3 === 0
        ? ['attestation', sampleAttestation(n, run)]
        : n % 3 === 1
          ? ['nullifier', sampleNullifier(n, run)]
          : ['bridge', sampleBridge(n, run)]
    return chainEventRow({
      topic: `${run}.veridis.chain.${topic}.v1`,
      partition: n % 3,
      offset: String(n),
      value: value as unknown as ChainEventValue,
    } as ConsumedMessage<ChainEventValue>)
  })
}

export interface FormResult {
  readonly name: string
  /** Per round: backend CPU, statement wall time, and JSON.stringify, each in µs per row. */
  readonly backendCpu: number[]
  readonly wall: number[]
  readonly encode: number[]
}

export async function benchSqlRows(options: { events: number; batch: number; rounds: number }) {
  const run = randomNamespace('sqlrows')
  const config = loadConfig(testEnv(run))
  const client = new pg.Client({
    connectionString: config.database.url,
    application_name: 'veridis-bench-sql-rows',
  })
  await client.connect()
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    const backendPid = rows[0]!.pid
    const backendCpuMs = () => {
      try {
        return processTreeCpuMs(backendPid)
      } catch {
        throw new Error(
          `cannot read /proc/${backendPid}: this bench measures the Postgres backend's CPU and needs the local stack's Postgres (bin/veridis stack up)`,
        )
      }
    }
    // The ledger's table, keys and indexes, as a temporary table of the same name: it hides
    // the real one for this session, so the ledger's own statement writes into it and
    // nothing of the bench stays.
    await client.query('CREATE TEMPORARY TABLE chain_events (LIKE public.chain_events INCLUDING ALL)')
    const results: FormResult[] = FORMS.map((form) => ({
      name: form.name,
      backendCpu: [],
      wall: [],
      encode: [],
    }))
    for (let round = 0; round < options.rounds; round++) {
      const chunks = FORMS.map((_, form) => ledgerRows(options.events, `${run}r${round}`, form))
      const spent = FORMS.map(() => ({ cpu: 0, wall: 0, encode: 0 }))
      for (let start = 0; start < options.events; start += options.batch) {
        for (const [index, form] of FORMS.entries()) {
          const chunk = chunks[index]!.slice(start, start + options.batch)
          const encodeStart = performance.now()
          const param = form.encode(chunk)
          const wallStart = performance.now()
          const cpuStart = backendCpuMs()
          await client.query(form.sql, [param])
          spent[index]!.cpu += backendCpuMs() - cpuStart
          spent[index]!.wall += performance.now() - wallStart
          spent[index]!.encode += wallStart - encodeStart
        }
      }
      const { rows: counted } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_temp.chain_events',
      )
      if (counted[0]!.n !== options.events * FORMS.length)
        throw new Error(`expected ${options.events * FORMS.length} rows, found ${counted[0]!.n}`)
      for (const [index, result] of results.entries()) {
        const perRow = (ms: number) => (ms * 1000) / options.events
        result.backendCpu.push(perRow(spent[index]!.cpu))
        result.wall.push(perRow(spent[index]!.wall))
        result.encode.push(perRow(spent[index]!.encode))
      }
      await client.query('TRUNCATE pg_temp.chain_events')
      process.stderr.write(
        `round ${round + 1}/${options.rounds}: ${results.map((r) => `${r.name.split(' (')[0]} ${r.backendCpu.at(-1)!.toFixed(1)} µs`).join(', ')} backend CPU per row\n`,
      )
    }
    return results
  } finally {
    await client.end()
  }
}

export function printSqlRowsBench(
  options: { events: number; batch: number; rounds: number },
  results: FormResult[],
) {
  const baseline = results[0]!
  process.stdout.write(
    `\nsql-rows bench: the ledger's chunk INSERT, ${options.events} rows per form per round in chunks of ${options.batch}, forms taking turns; medians of ${options.rounds} rounds, per row\n`,
  )
  for (const result of results) {
    process.stdout.write(
      `${result.name.padEnd(36)} backend CPU ${median(result.backendCpu).toFixed(1).padStart(5)} µs  wall ${median(result.wall).toFixed(1).padStart(5)} µs  JSON.stringify ${median(result.encode).toFixed(2).padStart(5)} µs\n`,
    )
  }
  for (const result of results.slice(1)) {
    const ratios = result.backendCpu.map((cpu, round) => cpu / baseline.backendCpu[round]!)
    process.stdout.write(
      `${result.name} / ${baseline.name}: backend CPU ${(median(ratios) * 100).toFixed(0)} % (rounds: ${ratios.map((r) => `${(r * 100).toFixed(0)} %`).join(', ')}), wall ${((median(result.wall) / median(baseline.wall)) * 100).toFixed(0)} %\n`,
    )
  }
}
