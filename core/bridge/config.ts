import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { getAddress } from 'ethers'
import { z } from 'zod'
import { isCaip2 } from '../chains.ts'
import { ConfigError } from '../config/env.ts'
import { checksumAddress } from './addresses.ts'

/**
 * What the guard watches and the limits it holds each bridge to, read from a JSON file:
 * `VERIDIS_BRIDGE_GUARD_CONFIG`, or `<VERIDIS_HOME>/bridges.json` that `bin/veridis up` writes
 * for the local gateways. docs/bridge-guard.md describes every field.
 */
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte address')
  .transform((value) => getAddress(value))
const caip2 = z.string().refine(isCaip2, 'must be a CAIP-2 chain id (e.g. eip155:1)')
const uint = z
  .string()
  .regex(/^[0-9]{1,78}$/, 'must be an unsigned integer as a decimal string')
  .transform((value) => BigInt(value))
const rpcUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })

const tokenSchema = z.object({
  symbol: z.string().min(1).max(32),
  /** The token's contract on each chain of the bridge (canonical on one, wrapped on the others). */
  addresses: z.record(caip2, address),
  /** A single transfer above this is a finding (Ronin 2024's per-tx caps; Wormhole Governor's large-transfer rule). */
  singleTransferLimit: uint.optional(),
  /** Value released on one chain within any 24 hours above this is a finding (Wormhole Governor). */
  dailyLimit: uint.optional(),
  /** Share of the custody balance leaving a vault within `drainWindowMs` that is a finding. */
  drainShare: z.number().gt(0).max(1).default(0.2),
  /**
   * A drain counts only once the value leaving within the window exceeds this (default: the
   * single-transfer limit): a small vault's ordinary withdrawals are a large share of it.
   */
  drainMinAmount: uint.optional(),
  drainWindowMs: z
    .number()
    .int()
    .min(1_000)
    .max(24 * 3_600_000)
    .default(3_600_000),
  /**
   * Proof of reserves: custody on `custodyChain` (the gateway's balance) must cover the wrapped
   * supply on every other chain plus what is in flight. `nonBridgedSupply` is wrapped supply not
   * minted by the bridge (a token also issued natively there) to leave out of the sum.
   */
  reserves: z
    .object({
      custodyChain: caip2,
      nonBridgedSupply: z.record(caip2, uint).default({}),
      /** Shortfall tolerated (rounding, fees), in token units. */
      tolerance: uint.default(0n),
      /** Locks/burns older than this are left out of what is in flight (bounds the check's work). */
      inFlightLookbackMs: z
        .number()
        .int()
        .min(60_000)
        .default(7 * 24 * 3_600_000),
    })
    .optional(),
  /** Value locked (or burnt) on one chain within any 24 hours above this is a finding (Wormhole Governor's outbound limit). */
  dailyLockLimit: uint.optional(),
  /** Per-chain overrides of the limits above (a chain where this token is thin gets tighter ones). */
  chainLimits: z
    .record(
      caip2,
      z.object({
        singleTransferLimit: uint.optional(),
        dailyLimit: uint.optional(),
        dailyLockLimit: uint.optional(),
        drainShare: z.number().gt(0).max(1).optional(),
      }),
    )
    .default({}),
  /** Anomaly detection: a volume spike below this (token units) is not reported. */
  anomalyMinVolume: uint.default(0n),
})

const gatewayKind = z.enum(['guardian-quorum', 'optimistic-root'])

const bridgeSchema = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, dot, dash, underscore (≤ 63)'),
  /**
   * guardian-quorum: releases carry guardian ECDSA signatures over the gateway's release digest.
   * optimistic-root: releases are proven against a committed root (no signatures).
   */
  kind: gatewayKind.default('guardian-quorum'),
  /** A gateway of another kind than the bridge's (a root-proven side of a mixed bridge). */
  gatewayKinds: z.record(caip2, gatewayKind).default({}),
  gateways: z
    .record(caip2, address)
    .refine((gateways) => Object.keys(gateways).length >= 1, 'at least one gateway'),
  /** First block of each gateway (source locks are looked up from there). */
  startBlocks: z.record(caip2, z.number().int().nonnegative()).default({}),
  /** A quorum below this (or zero) is a finding. */
  minThreshold: z.number().int().min(1).max(256),
  /** Who may change guardians, threshold or admin: allow-listed senders, timelock contracts, or exact transactions. */
  governance: z
    .object({
      senders: z.array(address).default([]),
      timelocks: z.array(address).default([]),
      transactions: z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/)).default([]),
    })
    .default({ senders: [], timelocks: [], transactions: [] }),
  /** Guardian key → the operator holding it; a guardian not listed is its own operator. */
  operators: z.record(address, z.string().min(1).max(64)).default({}),
  tokens: z.array(tokenSchema).min(1),
  /** A lock not released within this is a liveness finding. */
  pendingSlaMs: z
    .number()
    .int()
    .min(1_000)
    .default(15 * 60_000),
  /** Findings of one detection and scope within this fold into one incident. */
  cooldownMs: z
    .number()
    .int()
    .min(0)
    .default(30 * 60_000),
  /** Locks older than this are no longer looked at for liveness (bounds the periodic check). */
  pendingLookbackMs: z
    .number()
    .int()
    .min(60_000)
    .default(24 * 3_600_000),
  /**
   * Guardian participation: a guardian that signed fewer than `floor` of the releases it was
   * eligible for, over at least `minSample` of them, is a liveness finding. Counts are halved
   * whenever eligibility reaches 2 × `window`, so the rate follows recent behaviour. The chain
   * shows only the signatures a relayer submitted (often exactly threshold-many), so the floor
   * sits well below threshold / guardians: it finds a guardian that stopped signing.
   */
  participation: z
    .object({
      floor: z.number().min(0).max(1).default(0.2),
      minSample: z.number().int().min(1).default(20),
      window: z.number().int().min(1).default(500),
    })
    .default({ floor: 0.2, minSample: 20, window: 500 }),
  /** Statistical detector of volume and count per corridor (docs/bridge-anomaly.md). */
  anomaly: z
    .object({
      enabled: z.boolean().default(true),
      windowMs: z
        .number()
        .int()
        .min(60_000)
        .max(24 * 3_600_000)
        .refine((ms) => ms % 60_000 === 0, 'whole minutes (flow buckets are minutes)')
        .default(300_000),
      baselineWindows: z.number().int().min(4).max(2_016).default(48),
      minBaselineWindows: z.number().int().min(4).default(24),
      threshold: z.number().positive().default(5),
      minRatio: z.number().min(1).default(4),
    })
    .default({
      enabled: true,
      windowMs: 300_000,
      baselineWindows: 48,
      minBaselineWindows: 24,
      threshold: 5,
      minRatio: 4,
    }),
})

const chainSchema = z.object({
  /**
   * Independently operated endpoints of the chain. A release is backed only when at least
   * `minConfirmations` of them agree its source lock exists; disagreement is a finding.
   */
  rpcUrls: z.array(rpcUrl).min(1).max(8),
  minConfirmations: z.number().int().min(1).max(8).default(2),
  requestTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /**
   * Where the guard's periodic checks (reserves) read the chain: the node's `finalized` block
   * when `finalizedTag`, else `latest − finalityConfirmations` (5 locally, like the listener).
   */
  finalizedTag: z.boolean().default(false),
  finalityConfirmations: z.number().int().min(0).max(10_000).default(5),
  /** How far back the reserves check looks for releases racing the other side's read height. */
  inFlightLookbackBlocks: z.number().int().min(1).max(100_000).default(2_000),
})

const fileSchema = z
  .object({
    chains: z.record(caip2, chainSchema),
    bridges: z.array(bridgeSchema).min(1),
    /** How often the periodic checks (reserves, liveness, anomaly) run. */
    monitorIntervalMs: z.number().int().min(1_000).default(10_000),
  })
  .superRefine((file, ctx) => {
    const ids = new Set<string>()
    for (const [index, bridge] of file.bridges.entries()) {
      if (ids.has(bridge.id))
        ctx.addIssue({ code: 'custom', path: ['bridges', index, 'id'], message: 'duplicate bridge id' })
      ids.add(bridge.id)
      for (const chain of Object.keys(bridge.gateways)) {
        if (!file.chains[chain]) {
          ctx.addIssue({
            code: 'custom',
            path: ['bridges', index, 'gateways', chain],
            message: `no endpoints for ${chain} under chains`,
          })
        }
      }
    }
    for (const [chain, settings] of Object.entries(file.chains)) {
      if (settings.minConfirmations > settings.rpcUrls.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['chains', chain, 'minConfirmations'],
          message: `needs ${settings.minConfirmations} endpoints, ${settings.rpcUrls.length} configured`,
        })
      }
    }
  })

export type GuardConfig = z.infer<typeof fileSchema>
export type BridgeConfig = GuardConfig['bridges'][number]
export type TokenConfig = BridgeConfig['tokens'][number]

/** How the gateway of `bridge` on `chain` accepts releases. */
export const kindOf = (bridge: BridgeConfig, chain: string) => bridge.gatewayKinds[chain] ?? bridge.kind

export const localBridgeConfigFile = (home: string) => path.join(home, 'bridges.json')

/** Parses a guard configuration (already read from JSON); every problem is named with its path. */
export function parseGuardConfig(raw: unknown, label: string): GuardConfig {
  const parsed = fileSchema.safeParse(raw)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${label}: ${issue.path.join('.') || '(root)'}: ${issue.message}`),
    )
  }
  return parsed.data
}

export function loadGuardConfig(options: { home: string; file: string | undefined }): GuardConfig {
  const file = options.file ?? localBridgeConfigFile(options.home)
  const label = options.file ? 'VERIDIS_BRIDGE_GUARD_CONFIG' : file
  if (!existsSync(file)) {
    throw new ConfigError([
      `${label}: ${file} does not exist; set VERIDIS_BRIDGE_GUARD_CONFIG to the bridges to guard (local: bin/veridis up writes it)`,
    ])
  }
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new ConfigError([`${label}: not valid JSON (${(error as Error).message})`])
  }
  return parseGuardConfig(raw, label)
}

/** Where each gateway belongs, by chain and (checksummed) address. */
export interface GatewayIndex {
  bridgeOf(chain: string, gateway: string): BridgeConfig | undefined
  tokenOf(bridge: BridgeConfig, chain: string, token: string): TokenConfig | undefined
}

export function indexGateways(config: GuardConfig): GatewayIndex {
  const gateways = new Map<string, BridgeConfig>()
  const tokens = new Map<string, TokenConfig>()
  for (const bridge of config.bridges) {
    for (const [chain, gateway] of Object.entries(bridge.gateways))
      gateways.set(`${chain}:${gateway}`, bridge)
    for (const token of bridge.tokens) {
      for (const [chain, address] of Object.entries(token.addresses))
        tokens.set(`${bridge.id}:${chain}:${address}`, token)
    }
  }
  return {
    bridgeOf: (chain, gateway) => gateways.get(`${chain}:${checksumAddress(gateway)}`),
    tokenOf: (bridge, chain, token) => tokens.get(`${bridge.id}:${chain}:${checksumAddress(token)}`),
  }
}
