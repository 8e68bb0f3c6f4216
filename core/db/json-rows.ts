/**
 * A chunk of rows as one statement parameter: a JSON array of positional tuples, opened in
 * SQL as a subquery with one typed, named column per position.
 *
 * Why tuples and not objects (`jsonb_to_recordset`): Postgres parses a jsonb parameter into
 * its binary form, sorting and de-duplicating every object's keys, and then looks each
 * column up by name; a tuple has no keys and is read by position. `bin/veridis bench
 * sql-rows` measured the ledger's chunk upsert (13 columns) at 84–89 % of the backend CPU per
 * row that objects cost, with 30 % fewer bytes on the wire (docs/benchmarks.md, "Chunks
 * as one parameter").
 *
 *   const rows = jsonRows({ event_id: 'text', block_number: 'bigint', details: 'jsonb' })
 *   await client.query(`INSERT INTO t (event_id, block_number, details)
 *     SELECT e.event_id, e.block_number, e.details FROM ${rows.from('$1')} AS e`,
 *     [rows.param(values)])
 */

/**
 * The column types a row may carry: `jsonb` columns keep their JSON (objects, arrays, strings,
 * numbers; a JSON null is SQL NULL); `text[]` takes a JSON array of strings (null stays NULL, a
 * scalar is an error).
 */
export type JsonRowType =
  | 'text'
  | 'bigint'
  | 'integer'
  | 'float8'
  | 'numeric'
  | 'boolean'
  | 'jsonb'
  | 'text[]'

/** A row as the caller writes it: every column by name; undefined is written as SQL NULL. */
export type JsonRow<Columns extends Record<string, JsonRowType>> = {
  readonly [Name in keyof Columns]: unknown
}

export interface JsonRows<Columns extends Record<string, JsonRowType>> {
  /** A FROM item (parenthesised subquery) reading the parameter `placeholder`, e.g. `$1`. */
  from(placeholder: string): string
  /** The parameter: the rows' values in column order, as one JSON text. */
  param(rows: readonly JsonRow<Columns>[]): string
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/
const PLACEHOLDER = /^\$[1-9][0-9]*$/

export function jsonRows<const Columns extends Record<string, JsonRowType>>(
  columns: Columns,
): JsonRows<Columns> {
  const names = Object.keys(columns) as (keyof Columns & string)[]
  for (const name of names) {
    // Names go into SQL as written: only plain identifiers, so nothing needs quoting.
    if (!IDENTIFIER.test(name)) throw new Error(`json row column '${name}' is not a plain identifier`)
  }
  const select = names
    .map((name, position) => {
      const type = columns[name]
      // `->>` gives the element as text (SQL NULL for JSON null), which every type's input
      // function reads. A jsonb column takes the element itself, but a JSON null as SQL NULL,
      // as jsonb_to_recordset does: NOT NULL constraints and IS NULL must see it as missing.
      if (type === 'jsonb') return `nullif(t->${position}, 'null'::jsonb) AS ${name}`
      if (type === 'text') return `t->>${position} AS ${name}`
      if (type === 'text[]')
        return `CASE WHEN coalesce(jsonb_typeof(t->${position}), 'null') = 'null' THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(t->${position})) END AS ${name}`
      return `(t->>${position})::${type} AS ${name}`
    })
    .join(', ')
  return {
    from(placeholder) {
      if (!PLACEHOLDER.test(placeholder)) throw new Error(`'${placeholder}' is not a parameter placeholder`)
      return `(SELECT ${select} FROM jsonb_array_elements(${placeholder}::jsonb) AS t)`
    },
    param(rows) {
      // JSON.stringify writes undefined inside an array as null: SQL NULL, as for a missing key.
      return JSON.stringify(rows.map((row) => names.map((name) => row[name])))
    },
  }
}
