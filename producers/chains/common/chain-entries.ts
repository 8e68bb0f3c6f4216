import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { ConfigError } from '../../../core/config/env.ts'

/**
 * Every family's chains are configuration entries read from the same four sources, later
 * ones winning per field:
 *   1. the family's built-in entries (disabled until configured),
 *   2. `<VERIDIS_HOME>/chains/<family>.json`, written by `veridis stack up` for the local node,
 *   3. VERIDIS_<FAMILY>_CONFIG: a JSON array of entries (partial for chains already known),
 *   4. VERIDIS_<FAMILY>_RPC_URLS_<reference> (comma-separated) and
 *      VERIDIS_<FAMILY>_WS_URL_<reference>.
 * A family gives its entry schema and how its chains are named in variables; what an entry
 * needs before its chain can run is the family's own `resolve…Chain`.
 *
 * Every problem of every source is collected and thrown at once as a ConfigError, each named
 * by its file or variable and never quoting a value: URLs can hold API keys.
 */
interface ChainEntrySources<Entry extends { readonly chain: string }> {
  /** The family as variables name it: STARKNET in VERIDIS_STARKNET_CONFIG. */
  readonly envName: string
  readonly schema: z.ZodType<Entry>
  readonly builtIn: readonly Entry[]
  /** Where `veridis stack up` writes the family's local chains. */
  readonly localFile: (home: string) => string
  /** Object fields merged one level deep (contracts, authorities); every other field is replaced. */
  readonly mergedFields: readonly (keyof Entry)[]
  /** A chain reference as a variable name spells it: a regular expression's source. */
  readonly envReference: string
  /** The chain a variable's reference names, or why it names none. */
  readonly chainOfEnvReference: (
    reference: string,
    known: ReadonlyMap<string, Entry>,
  ) => { chain: string } | { problem: string }
  /** Whether VERIDIS_<FAMILY>_WS_URL_<reference> is read (a family whose RPC URLs are websockets has none). */
  readonly wsUrlVariable: boolean
  /**
   * EVM's file problems: a missing VERIDIS_EVM_CONFIG file as "no such file", invalid JSON with
   * the line and column where parsing stopped. The other families' messages are kept as they
   * are, since tests and operators match them.
   */
  readonly detailedFileProblems?: boolean
}

/** An endpoint URL for JSON-RPC over HTTP(S). */
export const httpUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })

/** A websocket endpoint URL. */
export const wsUrlSchema = z
  .url({ protocol: /^wss?$/, error: 'must be a ws(s) URL' })
  // The websocket library refuses a URL with a fragment outright.
  .refine((url) => !url.includes('#'), 'must be a ws(s) URL without a #fragment')

/**
 * How an entry may pace the engine near the head and bound its requests, the same for every
 * family: the last fields of each family's entry schema.
 */
export const pacingFields = {
  /** Most not-yet-final blocks fetched per step near the head. */
  maxHeadBatch: z.number().int().min(1).max(10_000).optional(),
  /** Poll interval when no new-head notification arrives. */
  pollIntervalMs: z.number().int().min(50).max(600_000).optional(),
  /** Per-request timeout. */
  requestTimeoutMs: z.number().int().min(100).max(600_000).optional(),
}

/** `<VERIDIS_HOME>/chains/<family>.json`. */
export const localChainsFile = (home: string, family: string) => path.join(home, 'chains', `${family}.json`)

/** The family's loader: every configured chain, merged from the four sources; throws ConfigError listing every problem. */
export function chainEntriesLoader<Entry extends { readonly chain: string }>(
  sources: ChainEntrySources<Entry>,
) {
  return (home: string, env: NodeJS.ProcessEnv = process.env) => loadChainEntries(sources, home, env)
}

function loadChainEntries<Entry extends { readonly chain: string }>(
  sources: ChainEntrySources<Entry>,
  home: string,
  env: NodeJS.ProcessEnv,
): Map<string, Entry> {
  const problems: string[] = []
  const entries = new Map<string, Entry>()
  const merge = (override: Entry) => {
    const base = entries.get(override.chain)
    entries.set(override.chain, base ? mergeEntry(base, override, sources.mergedFields) : override)
  }
  for (const entry of sources.builtIn) entries.set(entry.chain, entry)

  const configVariable = `VERIDIS_${sources.envName}_CONFIG`
  const files: [string, string][] = []
  const local = sources.localFile(home)
  if (existsSync(local)) files.push([local, local])
  const configFile = env[configVariable]
  if (configFile) files.push([configFile, configVariable])
  for (const [file, label] of files) {
    for (const entry of readEntries(sources, file, label, problems)) merge(entry)
  }

  const rpcVariable = new RegExp(`^VERIDIS_${sources.envName}_RPC_URLS_(${sources.envReference})$`)
  const wsVariable = new RegExp(`^VERIDIS_${sources.envName}_WS_URL_(${sources.envReference})$`)
  for (const [name, value] of Object.entries(env)) {
    const rpc = rpcVariable.exec(name)
    const ws = sources.wsUrlVariable ? wsVariable.exec(name) : null
    if (!value || (!rpc && !ws)) continue
    const named = sources.chainOfEnvReference((rpc ?? ws)![1]!, entries)
    if ('problem' in named) {
      problems.push(`${name}: ${named.problem}`)
      continue
    }
    const { chain } = named
    const override = rpc
      ? {
          chain,
          rpcUrls: value
            .split(',')
            .map((url) => url.trim())
            .filter(Boolean),
        }
      : { chain, wsUrl: value }
    const parsed = sources.schema.safeParse(override)
    // URLs may carry API keys: name the variable, never echo the value.
    if (!parsed.success)
      problems.push(`${name}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`)
    else merge(parsed.data)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return entries
}

function mergeEntry<Entry>(base: Entry, override: Entry, mergedFields: readonly (keyof Entry)[]): Entry {
  const merged = { ...base, ...override }
  for (const field of mergedFields) {
    merged[field] = { ...base[field], ...override[field] }
  }
  return merged
}

/** Entries of a JSON configuration file; problems are named after `label`, never quoting the file (URLs hold keys). */
function readEntries<Entry extends { readonly chain: string }>(
  sources: ChainEntrySources<Entry>,
  file: string,
  label: string,
  problems: string[],
): Entry[] {
  if (sources.detailedFileProblems && !existsSync(file)) {
    problems.push(`${label}: no such file '${file}'`)
    return []
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    problems.push(`${label}: cannot read '${file}' (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
    return []
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    problems.push(`${label}: not JSON${sources.detailedFileProblems ? jsonErrorPosition(text, error) : ''}`)
    return []
  }
  const parsed = z.array(sources.schema).safeParse(raw)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues) {
    problems.push(`${label}: entry ${issue.path.join('.')}: ${issue.message}`)
  }
  return []
}

/**
 * Where JSON.parse stopped, as " (line L, column C)", or nothing. Its message itself is
 * never shown: it can quote the text around the error, and the file holds RPC URLs with
 * API keys.
 */
function jsonErrorPosition(text: string, error: unknown): string {
  const match = /at position (\d+)/.exec(error instanceof Error ? error.message : '')
  if (!match) return ''
  const position = Math.min(Number(match[1]), text.length)
  const before = text.slice(0, position)
  const line = before.split('\n').length
  const column = position - before.lastIndexOf('\n')
  return ` (line ${line}, column ${column})`
}
