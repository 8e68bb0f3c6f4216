import type { BridgeConfig, GuardConfig, TokenConfig } from '../../../core/bridge/config.ts'
import type { PoolClient } from '../../../core/db/pool.ts'
import type { ChainReader } from '../../../producers/chains/evm/bridge/chain-reader.ts'
import type { ChainState, GatewayRelease } from '../chain-state.ts'
import { type Finding, lower } from './finding.ts'

/**
 * Invariant (proof of reserves; MakerDAO's and Lido's L2 bridge invariant bots, Wormhole's
 * Global Accountant): for every token, the wrapped supply on every other chain plus the value
 * in flight is covered by the custody on the source —
 *
 *   Σ (totalSupply − nonBridgedSupply) on wrapped chains + in flight ≤ balanceOf(source gateway) + tolerance
 *
 * with each chain read at its own finalized height. Because the heights differ, in flight is
 * counted from both sides so that a race never reads as a shortfall:
 * - pending (+): a lock or burn at or below its chain's read height whose destination had not
 *   released it at the destination's read height — custody (or the burn) has moved, the other
 *   side not yet. Candidates come from the guard's read model; one with no release in the read
 *   model is asked of the destination gateway itself (`released(messageId)` at its read height),
 *   so a guard that lags does not inflate what is owed.
 * - racing (−): a release at or below its chain's read height, within `inFlightLookbackBlocks`,
 *   whose source lock is above the source's read height — the destination counted the value,
 *   the source read does not yet. The source lock's height is asked of the source chain's
 *   endpoints. A release whose source lock no endpoint has is not in flight: it is unbacked
 *   value (Wormhole 2022), and the shortfall it makes is the point.
 * Locks older than `inFlightLookbackMs` are left out of pending (bounded work); a lock stuck that
 * long is liveness's finding, and leaving it out can only hide a shortfall, never invent one.
 */
export interface ReserveSnapshot {
  readonly custody: bigint
  readonly custodyChain: string
  readonly heights: Readonly<Record<string, number>>
  /** Wrapped supply per wrapped chain, nonBridgedSupply already taken off. */
  readonly wrapped: Readonly<Record<string, bigint>>
  readonly pending: bigint
  readonly racing: bigint
}

export interface ReserveAssessment {
  readonly wrappedSupply: bigint
  readonly inFlight: bigint
  /** What is owed beyond custody (0 when covered). */
  readonly shortfall: bigint
  readonly short: boolean
}

export function assessReserves(snapshot: ReserveSnapshot, tolerance: bigint): ReserveAssessment {
  const wrappedSupply = Object.values(snapshot.wrapped).reduce((sum, value) => sum + value, 0n)
  const inFlight = snapshot.pending - snapshot.racing
  const gap = wrappedSupply + inFlight - snapshot.custody
  const shortfall = gap > 0n ? gap : 0n
  return { wrappedSupply, inFlight, shortfall, short: shortfall > tolerance }
}

/** Releases racing the other side's read height: the sum to take off what is owed. */
export function racingValue(
  releases: readonly GatewayRelease[],
  lockHeights: ReadonlyMap<string, number>,
  heights: Readonly<Record<string, number>>,
): bigint {
  let racing = 0n
  for (const release of releases) {
    const sourceHeight = heights[release.sourceChain]
    const lockedAt = lockHeights.get(release.messageId)
    if (sourceHeight === undefined || lockedAt === undefined) continue
    if (lockedAt > sourceHeight) racing += release.amount
  }
  return racing
}

export const reservesScope = (bridge: BridgeConfig, token: TokenConfig) => `${bridge.id}:${token.symbol}`

export function reserveFinding(options: {
  readonly bridge: BridgeConfig
  readonly token: TokenConfig
  readonly checkId: string
  readonly snapshot: ReserveSnapshot
  readonly assessment: ReserveAssessment
  readonly tolerance: bigint
}): Finding {
  const { bridge, token, checkId, snapshot, assessment, tolerance } = options
  const subject = `reserves:${bridge.id}:${token.symbol}:${checkId}`
  const chains = Object.keys(snapshot.heights)
  return {
    detection: 'reserves',
    kind: 'RESERVE_SHORTFALL',
    severity: 'CRITICAL',
    scope: reservesScope(bridge, token),
    key: 'shortfall',
    subject: { eventId: subject, chain: snapshot.custodyChain },
    summary: `${token.symbol} on bridge ${bridge.id}: wrapped supply ${assessment.wrappedSupply} + in flight ${assessment.inFlight} exceeds custody ${snapshot.custody} on ${snapshot.custodyChain} by ${assessment.shortfall} (tolerance ${tolerance}; reserves check ${checkId})`,
    evidence: chains.map((chain) => ({
      eventId: subject,
      chain,
      txHash: null,
      blockNumber: snapshot.heights[chain]!,
      role: chain === snapshot.custodyChain ? 'custody read height' : 'wrapped supply read height',
    })),
    details: {
      checkId,
      custody: snapshot.custody.toString(),
      custodyChain: snapshot.custodyChain,
      wrappedSupply: assessment.wrappedSupply.toString(),
      pending: snapshot.pending.toString(),
      racing: snapshot.racing.toString(),
      inFlight: assessment.inFlight.toString(),
      shortfall: assessment.shortfall.toString(),
      tolerance: tolerance.toString(),
      ...Object.fromEntries(
        Object.entries(snapshot.wrapped).map(([chain, value]) => [`wrapped.${chain}`, value.toString()]),
      ),
      ...Object.fromEntries(
        Object.entries(snapshot.heights).map(([chain, height]) => [`height.${chain}`, String(height)]),
      ),
    },
    chains,
  }
}

/**
 * Reads one token's reserves at the finalized heights. Throws when a chain cannot be read
 * (the check is skipped and counted, never judged on half the answers).
 */
export async function readReserves(options: {
  readonly client: Pick<PoolClient, 'query'>
  readonly config: GuardConfig
  readonly bridge: BridgeConfig
  readonly token: TokenConfig
  readonly states: ReadonlyMap<string, ChainState>
  readonly readers: ReadonlyMap<string, Pick<ChainReader, 'sourceLocks'>>
  readonly now: number
}): Promise<ReserveSnapshot> {
  const { client, config, bridge, token, states, readers, now } = options
  const reserves = token.reserves!
  const custodyChain = reserves.custodyChain
  const chains = Object.keys(token.addresses).filter(
    (chain) => bridge.gateways[chain] && states.has(chain) && config.chains[chain],
  )
  if (!chains.includes(custodyChain)) {
    throw new Error(`custody chain ${custodyChain} has no gateway, token address or endpoints`)
  }
  const state = (chain: string) => states.get(chain)!
  const heightList = await Promise.all(chains.map((chain) => state(chain).finalizedBlock()))
  const heights = Object.fromEntries(chains.map((chain, index) => [chain, heightList[index]!]))
  const [custody, ...supplies] = await Promise.all([
    state(custodyChain).balanceOf(
      token.addresses[custodyChain]!,
      bridge.gateways[custodyChain]!,
      heights[custodyChain]!,
    ),
    ...chains
      .filter((chain) => chain !== custodyChain)
      .map(async (chain) => {
        const supply = await state(chain).totalSupply(token.addresses[chain]!, heights[chain]!)
        return [chain, supply - (reserves.nonBridgedSupply[chain] ?? 0n)] as const
      }),
  ])
  const wrapped = Object.fromEntries(supplies)

  // Pending: locks/burns at or below their chain's height, not released at the destination's.
  const { rows: candidates } = await client.query<{
    message_id: string
    destination_chain: string
    amount: string
    released_known: boolean
  }>(
    `SELECT l.message_id, l.destination_chain, l.amount::text,
       EXISTS (SELECT 1 FROM bridge_releases r WHERE r.message_id = l.message_id AND r.chain = l.destination_chain
               AND r.block_number <= h_dest.height) AS released_known
     FROM bridge_locks l
     JOIN unnest($2::text[], $3::bigint[], $4::text[]) AS h_src(chain, height, token) ON h_src.chain = l.chain
     JOIN unnest($2::text[], $3::bigint[]) AS h_dest(chain, height) ON h_dest.chain = l.destination_chain
     WHERE l.bridge_id = $1 AND l.token = h_src.token AND l.block_number <= h_src.height
       AND l.observed_at >= to_timestamp(($5::float8 - $6::float8) / 1000.0)`,
    [
      bridge.id,
      chains,
      chains.map((chain) => heights[chain]!),
      chains.map((chain) => lower(token.addresses[chain]!)),
      now,
      reserves.inFlightLookbackMs,
    ],
  )
  const unknown = candidates.filter((row) => !row.released_known)
  const releasedOnChain = await Promise.all(
    unknown.map((row) =>
      state(row.destination_chain).released(
        bridge.gateways[row.destination_chain]!,
        row.message_id,
        heights[row.destination_chain]!,
      ),
    ),
  )
  const pending = unknown.reduce(
    (sum, row, index) => (releasedOnChain[index] ? sum : sum + BigInt(row.amount)),
    0n,
  )

  // Racing: releases at or below their chain's height whose source lock is above the source's.
  const lookback = Object.fromEntries(
    chains.map((chain) => [chain, config.chains[chain]!.inFlightLookbackBlocks]),
  )
  const releases = (
    await Promise.all(
      chains.map((chain) =>
        state(chain).releases(
          bridge.gateways[chain]!,
          token.addresses[chain]!,
          Math.max(heights[chain]! - lookback[chain]! + 1, 0),
          heights[chain]!,
        ),
      ),
    )
  )
    .flat()
    .filter((release) => heights[release.sourceChain] !== undefined)
  const lockHeights = new Map<string, number>()
  const bySource = new Map<string, string[]>()
  for (const release of releases) {
    bySource.set(release.sourceChain, [...(bySource.get(release.sourceChain) ?? []), release.messageId])
  }
  for (const [source, ids] of bySource) {
    const reader = readers.get(source)
    if (!reader) throw new Error(`no chain reader for ${source}`)
    for (let i = 0; i < ids.length; i += 200) {
      const answers = await reader.sourceLocks(
        bridge.gateways[source]!,
        bridge.startBlocks[source] ?? 0,
        ids.slice(i, i + 200),
      )
      const answered = answers.filter((answer) => answer.ok)
      if (answered.length === 0) throw new Error(`no endpoint of ${source} answered about source locks`)
      // The highest height any endpoint reports: counting a race too generously can hide a
      // shortfall for one check, never raise one.
      for (const answer of answered) {
        for (const [id, lock] of answer.locks) {
          lockHeights.set(id, Math.max(lockHeights.get(id) ?? 0, lock.blockNumber))
        }
      }
    }
  }
  return {
    custody,
    custodyChain,
    heights,
    wrapped,
    pending,
    racing: racingValue(releases, lockHeights, heights),
  }
}

/** One check, written where the API and dashboard read it; returns its id. */
export async function writeReserveCheck(
  client: Pick<PoolClient, 'query'>,
  bridge: BridgeConfig,
  token: TokenConfig,
  snapshot: ReserveSnapshot,
  assessment: ReserveAssessment,
): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO bridge_reserve_checks (bridge_id, token, custody, custody_chain, custody_block, wrapped_supply,
       in_flight, heights, shortfall)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id::text`,
    [
      bridge.id,
      token.symbol,
      snapshot.custody.toString(),
      snapshot.custodyChain,
      snapshot.heights[snapshot.custodyChain],
      assessment.wrappedSupply.toString(),
      assessment.inFlight.toString(),
      JSON.stringify(snapshot.heights),
      assessment.shortfall.toString(),
    ],
  )
  return rows[0]!.id
}
