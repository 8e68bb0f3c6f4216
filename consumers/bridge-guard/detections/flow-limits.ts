import { Interface } from 'ethers'
import type { BridgeConfig, GatewayIndex, TokenConfig } from '../../../core/bridge/config.ts'
import { jsonRows } from '../../../core/db/json-rows.ts'
import type { PoolClient } from '../../../core/db/pool.ts'
import { RetryableError } from '../../../core/errors.ts'
import type { ChainReader } from '../../../producers/chains/evm/bridge/chain-reader.ts'
import { describeRpcError } from '../../../producers/chains/evm/rpc/client.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'

/**
 * Invariants, per bridge, chain and token (limits from the token's config, overridden per chain):
 * - single transfer: no one lock or release moves more than `singleTransferLimit` (Ronin 2024's
 *   per-transaction caps stopped part of its drain; Wormhole Governor's large-transfer rule);
 * - daily limit: the value released on a chain within any 24 hours stays within `dailyLimit`,
 *   and the value locked or burnt within `dailyLockLimit` (Wormhole Governor, Axelar ITS flow
 *   limits). The window slides by the minute: it holds the event's minute and the 1,439 before;
 * - vault drain: the value unlocked from a gateway within `drainWindowMs` stays below
 *   `drainShare` of the custody that was in the vault during the window — its balance at the
 *   window's start plus what entered since, which is the balance just before this release's block
 *   (read from the chain) plus what was unlocked earlier in the window (Harmony 2022, Multichain
 *   2023, Orbit 2023: vaults emptied by a handful of validly signed unlocks). Unlocks earlier in
 *   the same block are counted twice in that sum, so a drain within one block reads low — the
 *   single-transfer and daily limits still see it.
 *
 * State: value per minute in bridge_flow_buckets (time = the event's observedAt, so a replay
 * decides as the first delivery did), pruned past the longest window by the monitor loop.
 */
type FlowFact = Extract<BridgeFact, { type: 'lock' | 'release' }>

export const ERC20 = new Interface([
  'function balanceOf(address owner) view returns (uint256)',
  'function totalSupply() view returns (uint256)',
])

const DAY_MS = 24 * 3_600_000
const SHARE_SCALE = 1_000_000n

export interface FlowLimits {
  readonly singleTransferLimit: bigint | undefined
  readonly dailyLimit: bigint | undefined
  readonly dailyLockLimit: bigint | undefined
  readonly drainShare: number
  readonly drainWindowMs: number
  /** Value leaving in the window below this is never a drain, whatever its share. */
  readonly drainMinAmount: bigint
}

export function limitsOf(token: TokenConfig, chain: string): FlowLimits {
  const override = token.chainLimits[chain]
  return {
    singleTransferLimit: override?.singleTransferLimit ?? token.singleTransferLimit,
    dailyLimit: override?.dailyLimit ?? token.dailyLimit,
    dailyLockLimit: override?.dailyLockLimit ?? token.dailyLockLimit,
    drainShare: override?.drainShare ?? token.drainShare,
    drainWindowMs: token.drainWindowMs,
    drainMinAmount: token.drainMinAmount ?? override?.singleTransferLimit ?? token.singleTransferLimit ?? 0n,
  }
}

const tokenAddressOf = (fact: FlowFact) => (fact.type === 'lock' ? fact.lock.token : fact.release.token)
const modeOf = (fact: FlowFact) => (fact.type === 'lock' ? fact.lock.mode : fact.release.mode)

/** What the buckets say around one event, its own amount included. */
export interface FlowTotals {
  /** Value moved the same way (locked/burnt, or minted/unlocked) on this chain in the 24 hours up to the event. */
  readonly day: bigint
  /** Value unlocked from this gateway in the drain window up to the event, this one included. */
  readonly unlockedInWindow: bigint
}

export function checkFlow(options: {
  readonly bridge: BridgeConfig
  readonly token: TokenConfig
  readonly fact: FlowFact
  readonly totals: FlowTotals
  /** The gateway's balance of the token just before the release's block (UNLOCK releases only). */
  readonly vaultBalance: bigint | undefined
}): Finding[] {
  const { bridge, token, fact, totals, vaultBalance } = options
  const chain = fact.envelope.chain
  const limits = limitsOf(token, chain)
  const outbound = fact.type === 'release'
  const mode = modeOf(fact)
  const findings: Finding[] = []
  const base = (rule: string) => ({
    detection: 'flow-limit' as const,
    kind: 'ABNORMAL_FLOW' as const,
    scope: `${bridge.id}:${chain}:${token.symbol}:${rule}`,
    subject: subjectOf(fact.envelope),
    evidence: [evidenceOf(fact.envelope, outbound ? 'release' : 'lock')],
    chains: [chain],
  })
  const common = {
    messageId: fact.messageId,
    mode,
    token: tokenAddressOf(fact),
    symbol: token.symbol,
    amount: fact.amount.toString(),
  }
  const what = `${mode.toLowerCase()} of ${fact.amount} ${token.symbol} on ${chain} (message ${fact.messageId}, tx ${fact.envelope.txHash})`

  if (limits.singleTransferLimit !== undefined && fact.amount > limits.singleTransferLimit) {
    findings.push({
      ...base('single-transfer'),
      severity: 'HIGH',
      key: 'single-transfer',
      summary: `${what} exceeds the single-transfer limit ${limits.singleTransferLimit}`,
      details: { ...common, limit: limits.singleTransferLimit.toString() },
    })
  }
  const daily = outbound ? limits.dailyLimit : limits.dailyLockLimit
  if (daily !== undefined && totals.day > daily) {
    const rule = outbound ? 'daily-release' : 'daily-lock'
    findings.push({
      ...base(rule),
      severity: 'HIGH',
      key: rule,
      summary: `${what} takes the value ${outbound ? 'released' : 'locked'} on ${chain} within 24 hours to ${totals.day}, above the daily limit ${daily}`,
      details: { ...common, limit: daily.toString(), last24h: totals.day.toString() },
    })
  }
  if (outbound && mode === 'UNLOCK' && vaultBalance !== undefined) {
    const earlier = totals.unlockedInWindow - fact.amount
    const custody = vaultBalance + (earlier > 0n ? earlier : 0n)
    const share = BigInt(Math.round(limits.drainShare * Number(SHARE_SCALE)))
    const drained =
      custody > 0n &&
      totals.unlockedInWindow > limits.drainMinAmount &&
      totals.unlockedInWindow * SHARE_SCALE >= share * custody
    if (drained) {
      const percent = Number((totals.unlockedInWindow * 10_000n) / custody) / 100
      findings.push({
        ...base('drain'),
        severity: 'CRITICAL',
        key: 'drain',
        summary: `${what}: ${totals.unlockedInWindow} unlocked from gateway ${fact.gateway} within ${limits.drainWindowMs / 60_000} min, ${percent} % of the ${custody} in custody during the window (limit ${limits.drainShare * 100} %)`,
        details: {
          ...common,
          unlockedInWindow: totals.unlockedInWindow.toString(),
          custodyInWindow: custody.toString(),
          vaultBalanceBefore: vaultBalance.toString(),
          drainShare: String(limits.drainShare),
          drainWindowMs: String(limits.drainWindowMs),
        },
      })
    }
  }
  return findings
}

/**
 * Takes one lock or release into the buckets and judges it against the limits. Runs inside the
 * chunk's transaction, once per event (the guard judges an event once).
 */
export async function recordFlow(
  client: PoolClient,
  options: {
    readonly bridge: BridgeConfig
    readonly fact: FlowFact
    readonly vaultBalance: bigint | undefined
  },
): Promise<Finding[]> {
  const [findings] = await recordFlows(client, [options])
  return findings!
}

const MINUTE_MS = 60_000
/** date_trunc('minute', …) of an observation time in ms (UTC minutes: every zone offset is whole minutes). */
const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS
const OUTBOUND = ['MINT', 'UNLOCK']
const INBOUND = ['LOCK', 'BURN']

const FLOW_WINDOW_ROWS = jsonRows({
  g: 'integer',
  bridge_id: 'text',
  chain: 'text',
  token: 'text',
  from_ms: 'numeric',
  to_ms: 'numeric',
})

const FLOW_BUCKET_ROWS = jsonRows({
  bridge_id: 'text',
  chain: 'text',
  token: 'text',
  direction: 'text',
  minute: 'numeric',
  amount: 'numeric',
  transfers: 'integer',
})

/**
 * A chunk's locks and releases into the buckets, in order, each judged against the limits as
 * if taken in one by one (recordFlow): the buckets every event's windows read are loaded in one
 * query, each event adds its amount to its minute and sums its windows in memory — so it sees
 * the events before it in the chunk and none after — and the chunk's additions are written in
 * one upsert. Returns each entry's findings, in the entries' order.
 */
export async function recordFlows(
  client: PoolClient,
  entries: readonly {
    readonly bridge: BridgeConfig
    readonly fact: FlowFact
    readonly vaultBalance: bigint | undefined
  }[],
): Promise<Finding[][]> {
  interface Group {
    readonly bridgeId: string
    readonly chain: string
    readonly token: string
    from: number
    to: number
    /** minute → direction → amount */
    readonly buckets: Map<number, Map<string, bigint>>
  }
  const groups = new Map<string, Group>()
  const resolved = entries.map((entry) => {
    const { bridge, fact } = entry
    const chain = fact.envelope.chain
    const token = bridge.tokens.find(
      (candidate) => lower(candidate.addresses[chain] ?? '') === lower(tokenAddressOf(fact)),
    )
    // A token the bridge does not carry is lock-without-value's finding, not a flow.
    if (!token) return undefined
    const limits = limitsOf(token, chain)
    const tokenAddress = lower(tokenAddressOf(fact))
    const minute = minuteOf(fact.envelope.observedAt)
    const key = `${bridge.id}\u0000${chain}\u0000${tokenAddress}`
    const group = groups.get(key) ?? {
      bridgeId: bridge.id,
      chain,
      token: tokenAddress,
      from: Number.POSITIVE_INFINITY,
      to: Number.NEGATIVE_INFINITY,
      buckets: new Map(),
    }
    groups.set(key, group)
    group.from = Math.min(group.from, minute - Math.max(DAY_MS, limits.drainWindowMs))
    group.to = Math.max(group.to, minute)
    return { entry, token, limits, minute, group }
  })
  if (groups.size === 0) return entries.map(() => [])

  const list = [...groups.values()]
  const { rows } = await client.query<{ g: number; minute: number; direction: string; amount: string }>(
    `SELECT k.g, (extract(epoch FROM b.bucket) * 1000)::float8 AS minute, b.direction, b.amount::text AS amount
     FROM ${FLOW_WINDOW_ROWS.from('$1')} AS k
     JOIN bridge_flow_buckets b ON b.bridge_id = k.bridge_id AND b.chain = k.chain AND b.token = k.token
       AND b.bucket > to_timestamp(k.from_ms / 1000.0) AND b.bucket <= to_timestamp(k.to_ms / 1000.0)`,
    [
      FLOW_WINDOW_ROWS.param(
        list.map((group, g) => ({
          g,
          bridge_id: group.bridgeId,
          chain: group.chain,
          token: group.token,
          from_ms: group.from,
          to_ms: group.to,
        })),
      ),
    ],
  )
  const add = (group: Group, minute: number, direction: string, amount: bigint) => {
    const directions = group.buckets.get(minute) ?? new Map<string, bigint>()
    group.buckets.set(minute, directions)
    directions.set(direction, (directions.get(direction) ?? 0n) + amount)
  }
  for (const row of rows) add(list[row.g]!, row.minute, row.direction, BigInt(row.amount))

  const written = new Map<
    string,
    { group: Group; direction: string; minute: number; amount: bigint; transfers: number }
  >()
  const findings = resolved.map((item) => {
    if (!item) return []
    const { entry, token, limits, minute, group } = item
    const { bridge, fact } = entry
    const direction = modeOf(fact)
    add(group, minute, direction, fact.amount)
    const key = `${group.bridgeId}\u0000${group.chain}\u0000${group.token}\u0000${direction}\u0000${minute}`
    const write = written.get(key) ?? { group, direction, minute, amount: 0n, transfers: 0 }
    write.amount += fact.amount
    write.transfers += 1
    written.set(key, write)
    const same = fact.type === 'release' ? OUTBOUND : INBOUND
    let day = 0n
    let unlockedInWindow = 0n
    for (const [bucket, directions] of group.buckets) {
      if (bucket > minute) continue
      if (bucket > minute - DAY_MS) for (const d of same) day += directions.get(d) ?? 0n
      if (bucket > minute - limits.drainWindowMs) unlockedInWindow += directions.get('UNLOCK') ?? 0n
    }
    return checkFlow({
      bridge,
      token,
      fact,
      totals: { day, unlockedInWindow },
      vaultBalance: entry.vaultBalance,
    })
  })

  await client.query(
    `INSERT INTO bridge_flow_buckets (bridge_id, chain, token, direction, bucket, amount, transfers)
     SELECT bridge_id, chain, token, direction, to_timestamp(minute / 1000.0), amount, transfers
     FROM ${FLOW_BUCKET_ROWS.from('$1')} AS w
     ON CONFLICT (bridge_id, chain, token, direction, bucket)
     DO UPDATE SET amount = bridge_flow_buckets.amount + EXCLUDED.amount,
       transfers = bridge_flow_buckets.transfers + EXCLUDED.transfers`,
    [
      FLOW_BUCKET_ROWS.param(
        // In key order: concurrent chunks (other partitions) upsert the same buckets without deadlocking.
        [...written]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([, write]) => ({
            bridge_id: write.group.bridgeId,
            chain: write.group.chain,
            token: write.group.token,
            direction: write.direction,
            minute: write.minute,
            amount: write.amount.toString(),
            transfers: write.transfers,
          })),
      ),
    ],
  )
  return findings
}

/** A retracted lock or release leaves the buckets (call before its read-model row is deleted). */
export async function unrecordFlow(client: PoolClient, fact: BridgeFact): Promise<void> {
  if (fact.type !== 'lock' && fact.type !== 'release') return
  const table = fact.type === 'lock' ? 'bridge_locks' : 'bridge_releases'
  await client.query(
    `UPDATE bridge_flow_buckets b SET amount = greatest(b.amount - r.amount, 0), transfers = greatest(b.transfers - 1, 0)
     FROM ${table} r
     WHERE r.event_id = $1 AND b.bridge_id = r.bridge_id AND b.chain = r.chain AND b.token = r.token
       AND b.direction = r.mode AND b.bucket = date_trunc('minute', r.observed_at)`,
    [fact.envelope.eventId],
  )
}

/** Buckets older than every window that reads them. */
export async function pruneFlowBuckets(client: Pick<PoolClient, 'query'>, bridge: BridgeConfig) {
  const keepMs = Math.max(
    DAY_MS,
    ...bridge.tokens.map((token) => token.drainWindowMs),
    bridge.anomaly.windowMs * (bridge.anomaly.baselineWindows + 2),
  )
  const { rowCount } = await client.query(
    `DELETE FROM bridge_flow_buckets WHERE bridge_id = $1 AND bucket < now() - $2 * interval '1 millisecond'`,
    [bridge.id, keepMs],
  )
  return rowCount ?? 0
}

/**
 * The drain check's evidence, asked before the chunk's transaction opens: each UNLOCK release's
 * gateway balance of its token at the end of the block before the release.
 */
export async function gatherVaultBalances(
  facts: readonly BridgeFact[],
  index: GatewayIndex,
  readers: ReadonlyMap<string, Pick<ChainReader, 'call'>>,
): Promise<Map<string, bigint>> {
  const asked = new Map<string, Promise<bigint>>()
  const byEvent = new Map<string, string>()
  for (const fact of facts) {
    if (fact.type !== 'release' || fact.release.mode !== 'UNLOCK') continue
    const { chain, blockNumber, eventId } = fact.envelope
    const bridge = index.bridgeOf(chain, fact.gateway)
    const reader = readers.get(chain)
    if (!bridge || !reader || !index.tokenOf(bridge, chain, fact.release.token)) continue
    const block = Math.max(blockNumber - 1, 0)
    const key = `${chain}:${lower(fact.release.token)}:${lower(fact.gateway)}:${block}`
    byEvent.set(eventId, key)
    if (asked.has(key)) continue
    asked.set(
      key,
      reader
        .call(fact.release.token, ERC20.encodeFunctionData('balanceOf', [fact.gateway]), block)
        .then((data) => ERC20.decodeFunctionResult('balanceOf', data)[0] as bigint)
        .catch((error: unknown) => {
          throw new RetryableError(
            `${chain}: could not read the balance of gateway ${fact.gateway} at block ${block}: ${describeRpcError(error)}`,
            { cause: error },
          )
        }),
    )
  }
  return new Map(
    await Promise.all([...byEvent].map(async ([eventId, key]) => [eventId, await asked.get(key)!] as const)),
  )
}
