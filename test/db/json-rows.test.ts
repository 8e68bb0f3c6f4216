import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadConfig } from '../../core/config/env.ts'
import { jsonRows } from '../../core/db/json-rows.ts'
import { createPool, type Pool } from '../../core/db/pool.ts'
import { createLogger } from '../../core/logging/logger.ts'
import { randomNamespace, testEnv } from '../support/harness.ts'

/**
 * jsonRows against the real Postgres: every column type reads back what `jsonb_to_recordset`
 * — the form it replaced — reads from the same rows, including NULLs, quotes, non-ASCII
 * text, large and negative numbers, nested JSON and arrays.
 */
const COLUMNS = {
  name: 'text',
  height: 'bigint',
  position: 'integer',
  observed_ms: 'float8',
  amount: 'numeric',
  backed: 'boolean',
  details: 'jsonb',
  signers: 'text[]',
} as const
const ROWS = jsonRows(COLUMNS)

/** The same columns read by jsonb_to_recordset, the reference. */
const REFERENCE = `jsonb_to_recordset($1::jsonb) AS r(name text, height bigint, position integer,
  observed_ms float8, amount numeric, backed boolean, details jsonb, signers text[])`

const SAMPLES = [
  {
    name: 'plain',
    height: 19_876_543,
    position: 0,
    observed_ms: 1_733_300_000_123,
    amount: '1000000000000000000000000',
    backed: true,
    details: { nested: { list: [1, 'two', null] }, quote: 'a "b" \\ c' },
    signers: ['0xaa', '0xbb'],
  },
  {
    name: 'quotes \'single\' "double" \\backslash\\ and a\nnewline',
    height: -1,
    position: -2_147_483_648,
    observed_ms: 0.5,
    amount: '-12.345',
    backed: false,
    details: [],
    signers: [],
  },
  {
    name: 'Ünïcödé ✓ 𝔘 日本',
    height: 9_007_199_254_740_991,
    position: 2_147_483_647,
    observed_ms: 1e-7,
    amount: '0',
    backed: null,
    details: 'a JSON string',
    signers: ['只', 'with,comma', 'with"quote'],
  },
  {
    name: null,
    height: null,
    position: null,
    observed_ms: null,
    amount: null,
    backed: null,
    details: null,
    signers: null,
  },
]

let pool: Pool

beforeAll(() => {
  const config = loadConfig(testEnv(randomNamespace('jsonrows')))
  pool = createPool(config.database, createLogger({ service: 'json-rows-test', level: 'error' }))
})

afterAll(async () => {
  await pool?.end()
})

const COLUMN_LIST = Object.keys(COLUMNS).join(', ')

describe('jsonRows', () => {
  test('reads every column type as jsonb_to_recordset reads the same rows', async () => {
    const ours = await pool.query(`SELECT ${COLUMN_LIST} FROM ${ROWS.from('$1')} AS r`, [ROWS.param(SAMPLES)])
    const reference = await pool.query(`SELECT ${COLUMN_LIST} FROM ${REFERENCE}`, [JSON.stringify(SAMPLES)])
    expect(ours.rows).toHaveLength(SAMPLES.length)
    expect(ours.rows).toEqual(reference.rows)
    // The client reads SQL NULL and a JSON null alike; Postgres does not (IS NULL, NOT NULL).
    const nulls = `SELECT num_nulls(${COLUMN_LIST}) AS n FROM`
    const oursNulls = await pool.query(`${nulls} ${ROWS.from('$1')} AS r`, [ROWS.param(SAMPLES)])
    const referenceNulls = await pool.query(`${nulls} ${REFERENCE}`, [JSON.stringify(SAMPLES)])
    expect(oursNulls.rows).toEqual(referenceNulls.rows)
    expect(oursNulls.rows.map((row) => row.n)).toEqual([0, 0, 1, Object.keys(COLUMNS).length])
    // And what was written is what comes back (int8 is parsed as a number by core/db/pool.ts).
    expect(ours.rows[0]).toMatchObject({
      name: 'plain',
      height: 19_876_543,
      amount: '1000000000000000000000000',
      details: SAMPLES[0]!.details,
      signers: ['0xaa', '0xbb'],
    })
    expect(ours.rows[2].name).toBe('Ünïcödé ✓ 𝔘 日本')
    expect(ours.rows[3]).toEqual(Object.fromEntries(Object.keys(COLUMNS).map((name) => [name, null])))
  })

  test('keeps the rows in the order given, and an empty chunk is no rows', async () => {
    const many = Array.from({ length: 1_000 }, (_, n) => ({ ...SAMPLES[0]!, name: `row ${n}`, position: n }))
    const { rows } = await pool.query(`SELECT name, position FROM ${ROWS.from('$1')} AS r`, [
      ROWS.param(many),
    ])
    expect(rows.map((row) => row.position)).toEqual(many.map((_, n) => n))
    const empty = await pool.query(`SELECT count(*)::int AS n FROM ${ROWS.from('$1')} AS r`, [ROWS.param([])])
    expect(empty.rows[0].n).toBe(0)
  })

  test('a column left out of a row is NULL, as a missing key is for jsonb_to_recordset', async () => {
    const partial = { name: 'partial' } as unknown as (typeof SAMPLES)[number]
    const { rows } = await pool.query(`SELECT ${COLUMN_LIST} FROM ${ROWS.from('$1')} AS r`, [
      ROWS.param([partial]),
    ])
    expect(rows[0]).toEqual({
      ...Object.fromEntries(Object.keys(COLUMNS).map((n) => [n, null])),
      name: 'partial',
    })
  })

  test('a value of the wrong type is an error from Postgres, not a silent NULL', async () => {
    const wrong = { ...SAMPLES[0]!, height: 'not a number' }
    await expect(
      pool.query(`SELECT height FROM ${ROWS.from('$1')} AS r`, [ROWS.param([wrong])]),
    ).rejects.toThrow(/invalid input syntax for type bigint/)
    const scalarSigners = { ...SAMPLES[0]!, signers: 'one signer' }
    await expect(
      pool.query(`SELECT signers FROM ${ROWS.from('$1')} AS r`, [ROWS.param([scalarSigners])]),
    ).rejects.toThrow(/cannot extract elements from a scalar/)
  })

  test('refuses column names and placeholders that would have to be quoted', () => {
    expect(() => jsonRows({ 'name; DROP TABLE x': 'text' })).toThrow(/not a plain identifier/)
    expect(() => jsonRows({ Name: 'text' })).toThrow(/not a plain identifier/)
    expect(() => ROWS.from('1')).toThrow(/not a parameter placeholder/)
    expect(() => ROWS.from('$1; DROP TABLE x')).toThrow(/not a parameter placeholder/)
  })
})
