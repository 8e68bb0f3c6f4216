import { checksumAddress } from '../../../core/bridge/addresses.ts'
import type { BridgeConfig } from '../../../core/bridge/config.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'

/**
 * Invariants:
 * - quorum-health: a gateway's threshold is never zero and never below the bridge's configured
 *   minimum — whether set by a change event, reported on a release, or read from the chain at
 *   the release's block (Harmony 2022: 2 of 5; Ronin 2024: zero after an upgrade, with no
 *   ThresholdChanged event at all).
 * - signer-concentration: no single operator holds threshold-many keys of a guardian set
 *   (Ronin 2022: five of nine keys under one operator). `operatorsToForge` — the fewest
 *   operators whose keys together reach the threshold — is exported as the diversity score.
 */
type Fact = BridgeFact & { type: 'release' | 'configChange' }

const scopeOf = (bridge: BridgeConfig, fact: Fact) =>
  `${bridge.id}:${fact.envelope.chain}:${lower(fact.gateway)}`

export function checkThreshold(options: {
  readonly bridge: BridgeConfig
  readonly fact: Fact
  /** The quorum as the fact reports it and, for a release, as the chain reports it at that block. */
  readonly thresholds: readonly { readonly source: string; readonly value: number }[]
}): Finding[] {
  const { bridge, fact, thresholds } = options
  const weakest = thresholds.reduce<{ source: string; value: number } | undefined>(
    (low, entry) => (low === undefined || entry.value < low.value ? entry : low),
    undefined,
  )
  if (!weakest || weakest.value >= bridge.minThreshold) return []
  const zero = weakest.value === 0
  return [
    {
      detection: 'quorum-health',
      kind: 'SHORT_QUORUM',
      severity: zero ? 'CRITICAL' : 'HIGH',
      scope: scopeOf(bridge, fact),
      key: zero ? 'zero' : 'below-minimum',
      subject: subjectOf(fact.envelope),
      summary: zero
        ? `gateway ${fact.gateway} on ${fact.envelope.chain} accepts releases with a threshold of zero (${weakest.source})`
        : `gateway ${fact.gateway} on ${fact.envelope.chain} runs with threshold ${weakest.value}, below the minimum ${bridge.minThreshold} (${weakest.source})`,
      evidence: [evidenceOf(fact.envelope, fact.type === 'release' ? 'release' : 'configuration change')],
      details: {
        minimum: String(bridge.minThreshold),
        ...Object.fromEntries(thresholds.map((entry) => [`threshold.${entry.source}`, String(entry.value)])),
      },
      chains: [fact.envelope.chain],
    },
  ]
}

/** Who holds a guardian key: the configured operator, or the key itself when none is named. */
export const operatorOf = (bridge: BridgeConfig, guardian: string) => {
  const key = checksumAddress(guardian)
  return bridge.operators[key] ?? key
}

/** The fewest operators whose keys together reach `threshold` (1 means one operator can release alone). */
export function operatorsToForge(
  bridge: BridgeConfig,
  guardians: readonly string[],
  threshold: number,
): number {
  const keysPerOperator = new Map<string, number>()
  for (const guardian of guardians) {
    const operator = operatorOf(bridge, guardian)
    keysPerOperator.set(operator, (keysPerOperator.get(operator) ?? 0) + 1)
  }
  const counts = [...keysPerOperator.values()].sort((a, b) => b - a)
  let keys = 0
  for (const [index, count] of counts.entries()) {
    keys += count
    if (keys >= Math.max(threshold, 1)) return index + 1
  }
  return counts.length + 1
}

export function checkConcentration(options: {
  readonly bridge: BridgeConfig
  readonly fact: Fact
  readonly guardians: readonly string[]
  readonly threshold: number
}): Finding[] {
  const { bridge, fact, guardians, threshold } = options
  if (threshold <= 0 || operatorsToForge(bridge, guardians, threshold) > 1) return []
  const byOperator = new Map<string, string[]>()
  for (const guardian of guardians) {
    const operator = operatorOf(bridge, guardian)
    byOperator.set(operator, [...(byOperator.get(operator) ?? []), guardian])
  }
  const [operator, keys] = [...byOperator].sort((a, b) => b[1].length - a[1].length)[0]!
  return [
    {
      detection: 'signer-concentration',
      kind: 'SIGNER_CONCENTRATION',
      severity: 'HIGH',
      scope: scopeOf(bridge, fact),
      key: operator,
      subject: subjectOf(fact.envelope),
      summary: `operator ${operator} holds ${keys.length} of ${guardians.length} guardian keys of ${fact.gateway} on ${fact.envelope.chain}, threshold ${threshold}: it can release alone`,
      evidence: [evidenceOf(fact.envelope, fact.type === 'release' ? 'release' : 'guardian set change')],
      details: {
        operator,
        keys: keys.join(','),
        guardians: String(guardians.length),
        threshold: String(threshold),
        operatorsToForge: '1',
      },
      chains: [fact.envelope.chain],
    },
  ]
}
