import type { BridgeConfig } from '../../../core/bridge/config.ts'
import type { EndpointAnswer, SourceLock } from '../../../producers/chains/evm/bridge/chain-reader.ts'
import type { BridgeFact } from '../facts.ts'
import { evidenceOf, type Finding, lower, subjectOf } from './finding.ts'

/**
 * Invariant: a release is treated as backed only when at least `minConfirmations`
 * independently configured endpoints of the source chain report its source lock, and none
 * reports otherwise. Endpoints that disagree are a finding of their own — one of them is
 * lying or forked — never a reason to fail over to the one that answers (KelpDAO 2026:
 * a poisoned RPC attested packets that were never sent; Poly Network 2023).
 */
export type SourceVerdict =
  | { readonly verdict: 'backed'; readonly lock: SourceLock }
  | { readonly verdict: 'absent' | 'mismatch'; readonly reason: string; readonly lock?: SourceLock }
  | { readonly verdict: 'disputed' | 'unconfirmed'; readonly reason: string }

type ReleaseFact = Extract<BridgeFact, { type: 'release' }>

/** Does this source lock describe the same transfer as the release? undefined when it does. */
export function lockMismatch(bridge: BridgeConfig, fact: ReleaseFact, lock: SourceLock): string | undefined {
  const { release } = fact
  const destinationChainId = fact.envelope.chain.split(':')[1]
  if (lock.destinationChainId.toString() !== destinationChainId)
    return `the source lock is for chain ${lock.destinationChainId}, released on ${fact.envelope.chain}`
  if (lock.amount !== fact.amount) return `the source lock is for ${lock.amount}, ${fact.amount} released`
  if (lower(lock.recipient) !== lower(release.recipient))
    return `the source lock pays ${lock.recipient}, the release paid ${release.recipient}`
  const token = bridge.tokens.find(
    (candidate) =>
      lower(candidate.addresses[release.sourceChain] ?? '') === lower(lock.token) &&
      lower(candidate.addresses[fact.envelope.chain] ?? '') === lower(release.token),
  )
  if (!token) return `the source lock moved ${lock.token}, which the bridge does not map to ${release.token}`
  return undefined
}

export function confirmSource(options: {
  readonly bridge: BridgeConfig
  readonly fact: ReleaseFact
  readonly answers: readonly EndpointAnswer[]
  readonly minConfirmations: number
}): { readonly verdict: SourceVerdict; readonly findings: Finding[] } {
  const { bridge, fact, answers, minConfirmations } = options
  const answered = answers.filter((answer) => answer.ok)
  const tally = answered.map((answer) => {
    const lock = answer.locks.get(fact.messageId)
    if (!lock) return { endpoint: answer.endpoint, outcome: 'absent' as const, lock }
    const mismatch = lockMismatch(bridge, fact, lock)
    return {
      endpoint: answer.endpoint,
      outcome: mismatch ? ('mismatch' as const) : ('present' as const),
      lock,
      mismatch,
    }
  })
  const present = tally.filter((entry) => entry.outcome === 'present')
  const details = {
    messageId: fact.messageId,
    sourceChain: fact.release.sourceChain,
    endpoints: String(answers.length),
    answered: String(answered.length),
    present: String(present.length),
    ...Object.fromEntries(
      tally.map((entry, index) => [`endpoint${index}`, `${entry.endpoint}: ${entry.outcome}`]),
    ),
    ...Object.fromEntries(
      answers
        .filter((answer) => !answer.ok)
        .map((answer, index) => [`error${index}`, `${answer.endpoint}: ${answer.error}`]),
    ),
  }
  const finding = (severity: Finding['severity'], key: string, summary: string): Finding => ({
    detection: 'source-confirmation',
    kind: 'SOURCE_DISAGREEMENT',
    severity,
    scope: `${bridge.id}:${fact.release.sourceChain}`,
    key,
    subject: subjectOf(fact.envelope),
    summary,
    evidence: [evidenceOf(fact.envelope, 'release')],
    details,
    chains: [fact.release.sourceChain, fact.envelope.chain],
  })

  if (present.length > 0 && present.length < tally.length) {
    const reason = `endpoints of ${fact.release.sourceChain} disagree about source message ${fact.messageId}: ${tally
      .map((entry) => `${entry.endpoint} ${entry.outcome}`)
      .join(', ')}`
    return { verdict: { verdict: 'disputed', reason }, findings: [finding('CRITICAL', 'disputed', reason)] }
  }
  if (present.length > 0) {
    if (present.length >= minConfirmations)
      return { verdict: { verdict: 'backed', lock: present[0]!.lock! }, findings: [] }
    const reason = `source message ${fact.messageId} confirmed by ${present.length} of the ${minConfirmations} endpoints required (${answers.length - answered.length} did not answer)`
    return {
      verdict: { verdict: 'unconfirmed', reason },
      findings: [finding('MEDIUM', 'unconfirmed', reason)],
    }
  }
  if (tally.length === 0) {
    const reason = `no endpoint of ${fact.release.sourceChain} answered about source message ${fact.messageId}`
    return {
      verdict: { verdict: 'unconfirmed', reason },
      findings: [finding('MEDIUM', 'unconfirmed', reason)],
    }
  }
  const mismatched = tally.find((entry) => entry.outcome === 'mismatch')
  if (mismatched) {
    return {
      verdict: { verdict: 'mismatch', reason: mismatched.mismatch!, lock: mismatched.lock! },
      findings: [],
    }
  }
  return {
    verdict: {
      verdict: 'absent',
      reason: `no lock with message id ${fact.messageId} on the ${fact.release.sourceChain} gateway (${tally.length} endpoint(s) asked)`,
    },
    findings: [],
  }
}
