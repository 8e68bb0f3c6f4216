import type { ConsumedMessage } from '../../core/bus/consumer.ts'
import type { AttestationEvent, AuditFact, Command } from '../../core/bus/types.ts'
import { unionBranch } from '../../core/bus/union.ts'
import { UndecryptableError } from '../../core/crypto/aead.ts'
import { unsealedFields } from '../../core/crypto/command-seal.ts'
import {
  openSubjectValue,
  type ParsedSubjectSeal,
  parseSubjectSeal,
  SUBJECT_SEAL_VERSION,
} from '../../core/crypto/subject-seal.ts'
import type { PoolClient } from '../../core/db/pool.ts'
import type { AuditFactDraft } from './record.ts'
import { eraseSubject, existingDataKey, type SubjectVault, storeSubjectData } from './subjects.ts'

export type AuditInput = Command | AuditFact | AttestationEvent

export interface AuditTopics {
  readonly command: string
  readonly intake: string
  readonly attestation: string
}

export interface AuditContext {
  readonly topics: AuditTopics
  readonly vault: SubjectVault
  readonly subjectHashOf: (subjectId: string) => string
  readonly dataRetentionDays: number
  readonly now: () => number
}

const DAY_MS = 24 * 60 * 60 * 1000

/** `io.veridis.command.ProveCommand` → `ProveCommand`. */
const commandTypeOf = (command: Command): string => unionBranch(command.payload)?.type ?? 'UnknownCommand'

/** Names of the payload's fields that are safe to audit; values never (proof inputs are secrets). */
function commandDetails(command: Command, type: string): Record<string, string> {
  const payload = Object.values(command.payload)[0] as Record<string, unknown>
  const details: Record<string, string> = { commandType: type, idempotencyKey: command.idempotencyKey }
  if (type === 'ProveCommand' || type === 'VerifyCommand') details.circuit = String(payload.circuit)
  if (type === 'ProveCommand')
    details.inputSignals = Object.keys(payload.inputs as object)
      .sort()
      .join(',')
  if (
    type === 'RegisterAttestationCommand' ||
    type === 'AnalyzeBridgeCommand' ||
    type === 'AnalyzeTransactionCommand'
  )
    details.chain = String(payload.chain)
  if (type === 'PropagateNullifierCommand') details.sourceChain = String(payload.sourceChain)
  return details
}

/**
 * What the audit trail says about one input message, with the effects on personal data
 * (storing it encrypted, erasing it) done in the caller's transaction. Returns the drafts to
 * chain, in order.
 */
export async function auditMessage(
  client: PoolClient,
  context: AuditContext,
  message: ConsumedMessage<AuditInput>,
): Promise<AuditFactDraft[]> {
  const { topics } = context
  if (message.topic === topics.command) return auditCommand(client, context, message.value as Command)
  if (message.topic === topics.intake) return [auditIntakeFact(message.value as AuditFact)]
  if (message.topic === topics.attestation)
    return auditAttestationEvent(client, context, message.value as AttestationEvent, message.headers)
  return []
}

/** What a command says about its data subject, once its sealed fields are checked and opened. */
type CommandSubject =
  | { readonly state: 'none' }
  | { readonly state: 'refused'; readonly reason: string }
  | {
      readonly state: 'sealed'
      readonly subjectHash: string
      /** The opened subject id; null when the subject's key is already destroyed. */
      readonly subjectId: string | null
    }

const SUBJECT_FIELDS = new Set([
  'RegisterAttestationCommand.subjectId',
  'RequestErasureCommand.subjectId',
  'RequestErasureCommand.reason',
])

/**
 * Subject fields arrive sealed under the subject's data key (core/crypto/subject-seal.ts).
 * A field in plain text, malformed, under a key this pipeline never made, or not opening
 * under the subject's key is refused: the command is not acted on, and the refusal (naming
 * fields, never values) is on the trail. A sealed value also proves its writer held the
 * subject's key, so nobody erases a subject by knowing its pseudonym alone.
 */
async function subjectOfCommand(
  client: PoolClient,
  context: AuditContext,
  command: Command,
): Promise<CommandSubject> {
  const register = command.payload['io.veridis.command.RegisterAttestationCommand']
  const erasure = command.payload['io.veridis.command.RequestErasureCommand']
  const field = register?.subjectId
    ? ('RegisterAttestationCommand.subjectId' as const)
    : erasure
      ? ('RequestErasureCommand.subjectId' as const)
      : null
  const text = register?.subjectId ?? erasure?.subjectId
  if (!field || !text) return { state: 'none' }
  const plain = unsealedFields(command).filter((name) => SUBJECT_FIELDS.has(name))
  if (plain.length > 0)
    return {
      state: 'refused',
      reason: `${plain.join(', ')} in plain text: personal data must be sealed under the subject's key (${SUBJECT_SEAL_VERSION}, docs/audit.md)`,
    }
  const refuse = (why: string): CommandSubject => ({ state: 'refused', reason: `${field}: ${why}` })
  let sealed: ParsedSubjectSeal
  try {
    sealed = parseSubjectSeal(text)
  } catch (error) {
    return refuse(`malformed sealed value (${(error as Error).message})`)
  }
  const dataKey = await existingDataKey(client, context.vault, sealed.keyId)
  if (dataKey === undefined) return refuse('sealed under a subject key this pipeline never issued')
  if (dataKey === null) return { state: 'sealed', subjectHash: sealed.keyId, subjectId: null }
  if (sealed.withheld) return refuse("the value is withheld, but the subject's key is not destroyed")
  const place = { commandId: command.commandId }
  let subjectId: string
  try {
    subjectId = openSubjectValue(dataKey, sealed, { ...place, field })
    if (erasure?.reason) {
      const reason = parseSubjectSeal(erasure.reason)
      if (reason.withheld || reason.keyId !== sealed.keyId)
        return refuse('the reason is not sealed under the same subject key')
      // Opened only to check it: the reason is never kept.
      openSubjectValue(dataKey, reason, { ...place, field: 'RequestErasureCommand.reason' })
    }
  } catch (error) {
    if (!(error instanceof UndecryptableError)) throw error
    return refuse("the sealed value does not open under the subject's key for this command")
  }
  if (context.subjectHashOf(subjectId) !== sealed.keyId)
    return refuse("the key id is not the sealed subject's pseudonym")
  return { state: 'sealed', subjectHash: sealed.keyId, subjectId }
}

async function auditCommand(
  client: PoolClient,
  context: AuditContext,
  command: Command,
): Promise<AuditFactDraft[]> {
  const type = commandTypeOf(command)
  const register = command.payload['io.veridis.command.RegisterAttestationCommand']
  const erasure = command.payload['io.veridis.command.RequestErasureCommand']
  const subject = await subjectOfCommand(client, context, command)
  const subjectHash = subject.state === 'sealed' ? subject.subjectHash : null
  const base = { actor: command.actor, subjectHash, occurredAt: command.issuedAt }
  const drafts: AuditFactDraft[] = [
    {
      ...base,
      auditId: `command:${command.commandId}`,
      action: 'command.received',
      gdprCategory: type === 'ProveCommand' ? 'CREDENTIAL' : subjectHash ? 'IDENTIFIER' : 'NONE',
      legalBasis: subjectHash || type === 'ProveCommand' ? 'CONTRACT' : 'NOT_APPLICABLE',
      // Proof inputs are used for one proof and never kept: nothing to retain.
      retentionDays: null,
      references: [command.commandId],
      details: commandDetails(command, type),
    },
  ]

  if (subject.state === 'refused') {
    drafts.push({
      ...base,
      auditId: `command:${command.commandId}:refused`,
      action: 'command.rejected',
      gdprCategory: 'IDENTIFIER',
      legalBasis: 'NOT_APPLICABLE',
      retentionDays: null,
      references: [command.commandId],
      details: { commandType: type, reason: subject.reason },
    })
    return drafts
  }

  if (register && subject.state === 'sealed') {
    const reference = command.commandId
    const stored =
      subject.subjectId !== null &&
      (await storeSubjectData(client, context.vault, {
        subjectHash: subject.subjectHash,
        kind: 'attestation.subject_id',
        reference,
        plaintext: subject.subjectId,
        retainUntil: new Date(context.now() + context.dataRetentionDays * DAY_MS),
      }))
    if (stored) {
      await client.query(
        `INSERT INTO audit_subject_attestations (scope, registry, attestation_id, subject_hash)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [context.vault.scope, register.registry.toLowerCase(), register.attestationId, subject.subjectHash],
      )
    }
    drafts.push({
      ...base,
      auditId: `command:${command.commandId}:subject-data`,
      action: stored ? 'subject.data.stored' : 'subject.data.refused',
      gdprCategory: 'IDENTIFIER',
      legalBasis: 'CONTRACT',
      retentionDays: stored ? context.dataRetentionDays : null,
      references: [command.commandId],
      details: stored
        ? { kind: 'attestation.subject_id', encryption: 'AES-256-GCM, per-subject key' }
        : { kind: 'attestation.subject_id', reason: 'the subject was erased; new data is not taken in' },
    })
  }

  if (erasure && subject.state === 'sealed') {
    const outcome = await eraseSubject(client, context.vault, {
      subjectHash: subject.subjectHash,
      commandId: command.commandId,
    })
    const shared = {
      ...base,
      auditId: `command:${command.commandId}:erasure`,
      gdprCategory: 'IDENTIFIER' as const,
      legalBasis: 'LEGAL_OBLIGATION' as const,
      retentionDays: null,
      occurredAt: context.now(),
    }
    if (outcome.status === 'erased') {
      drafts.push({
        ...shared,
        action: 'erasure.completed',
        references: [command.commandId, outcome.erasureId],
        details: {
          erasureId: outcome.erasureId,
          circuit: 'ERASURE',
          oldRoot: outcome.oldRoot,
          newRoot: outcome.newRoot,
          proofSha256: outcome.proofSha256,
          proofVerified: 'true',
          itemsMadeUnreadable: String(outcome.items),
        },
      })
    } else {
      drafts.push({
        ...shared,
        action: 'erasure.completed',
        references: [
          command.commandId,
          ...(outcome.status === 'already-erased' && outcome.erasureId ? [outcome.erasureId] : []),
        ],
        details: {
          outcome: outcome.status === 'already-erased' ? 'already erased' : 'no personal data held',
        },
      })
    }
  }
  return drafts
}

function auditIntakeFact(fact: AuditFact): AuditFactDraft {
  const details: Record<string, string> = { status: String(fact.status), requestId: fact.requestId }
  if (fact.commandType) details.commandType = fact.commandType
  if (fact.idempotencyKey) details.idempotencyKey = fact.idempotencyKey
  if (fact.reason) details.reason = fact.reason
  return {
    auditId: `intake:${fact.factId}`,
    action: fact.action,
    actor: fact.actor,
    subjectHash: null,
    gdprCategory: 'NONE',
    legalBasis: 'NOT_APPLICABLE',
    retentionDays: null,
    references: [...(fact.commandId ? [fact.commandId] : []), fact.factId],
    details,
    occurredAt: fact.occurredAt,
  }
}

/** Chain events touch a subject when the attestation they are about was registered with one. */
async function auditAttestationEvent(
  client: PoolClient,
  context: AuditContext,
  event: AttestationEvent,
  headers: Readonly<Record<string, string>>,
): Promise<AuditFactDraft[]> {
  const branch = unionBranch(event.change)
  const change = branch?.value
  if (!branch || !change || !('attestationId' in change)) return []
  const { rows } = await client.query<{ subject_hash: string }>(
    `SELECT subject_hash FROM audit_subject_attestations WHERE scope = $1 AND registry = $2 AND attestation_id = $3`,
    [context.vault.scope, event.registry.toLowerCase(), change.attestationId],
  )
  const subjectHash = rows[0]?.subject_hash
  if (!subjectHash) return []
  const kind = branch.type // AttestationIssued, AttestationRevoked
  return [
    {
      auditId: `chain:${event.envelope.eventId}:${event.envelope.finality}`,
      action: kind === 'AttestationRevoked' ? 'attestation.revoked' : 'attestation.issued',
      actor: { kind: 'SERVICE', id: headers.producer ?? 'chain-listener' },
      subjectHash,
      gdprCategory: 'IDENTIFIER',
      legalBasis: 'CONTRACT',
      retentionDays: null,
      references: [event.envelope.eventId],
      details: {
        chain: event.envelope.chain,
        finality: event.envelope.finality,
        txHash: event.envelope.txHash,
      },
      occurredAt: event.envelope.observedAt,
    },
  ]
}
