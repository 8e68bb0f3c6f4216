import { createHash, randomUUID } from 'node:crypto'
import type { ChainEventEnvelope, Finality, TopicValues } from '../../core/bus/types.ts'
import { chainEventId } from '../../producers/chains/common/event-id.ts'

/** Realistic sample records for every topic, varied by `n` so batches are not uniform. */
const hex = (seed: string, bytes = 32) =>
  `0x${createHash('sha256')
    .update(seed)
    .digest('hex')
    .slice(0, bytes * 2)}`
const field = (seed: string) =>
  (BigInt(hex(seed)) % 21888242871839275222246405745257511950877570071602187756754837977862513000n).toString()

export function sampleEnvelope(
  n: number,
  options: { chain?: string; finality?: Finality; run?: string } = {},
): ChainEventEnvelope {
  const chain = options.chain ?? (n % 2 === 0 ? 'eip155:31337' : 'eip155:31338')
  const blockHash = hex(`${options.run ?? ''}block${Math.floor(n / 10)}${chain}`)
  const txHash = hex(`${options.run ?? ''}tx${n}`)
  return {
    eventId: chainEventId({ chain, blockHash, txHash, logIndex: n % 10 }),
    chain,
    blockNumber: 1_000 + Math.floor(n / 10),
    blockHash,
    txHash,
    logIndex: n % 10,
    emitter: hex(`emitter${chain}`, 20),
    finality: options.finality ?? 'PENDING',
    observedAt: Date.now(),
  }
}

export function sampleAttestation(n: number, run = ''): TopicValues['attestation'] {
  return {
    envelope: sampleEnvelope(n, { run }),
    registry: hex('attestation-registry', 20),
    change: {
      'io.veridis.chain.AttestationIssued': {
        attestationId: field(`${run}att${n}`),
        issuer: hex(`issuer${n % 3}`, 20),
        root: field(`${run}root${n}`),
        schemaId: n % 2 === 0 ? null : 'kyc-basic-v1',
      },
    },
  }
}

export function sampleNullifier(n: number, run = ''): TopicValues['nullifier'] {
  return {
    envelope: sampleEnvelope(n, { run }),
    registry: hex('nullifier-registry', 20),
    scope: field(`scope${n % 5}`),
    nullifier: field(`${run}nullifier${n}`),
    merkleTreeRoot: field(`tree${n % 7}`),
    source: 'PROOF',
    originChain: null,
    proof: null,
    publicSignals: [],
    message: null,
  }
}

export function sampleBridge(n: number, run = ''): TopicValues['bridge'] {
  return {
    envelope: sampleEnvelope(n, { run }),
    gateway: hex('bridge-gateway', 20),
    messageId: hex(`${run}message${n}`),
    action: {
      'io.veridis.chain.BridgeLocked': {
        mode: 'LOCK',
        sender: hex(`sender${n}`, 20),
        recipient: hex(`recipient${n}`, 20),
        token: hex('token', 20),
        amount: (10n ** 18n * BigInt(n + 1)).toString(),
        destinationChain: 'eip155:31338',
        nonce: String(n),
        transfers: [],
      },
    },
  }
}

const proof = (n: number) => ({
  piA: [field(`a1${n}`), field(`a2${n}`), '1'],
  piB: [
    [field(`b11${n}`), field(`b12${n}`)],
    [field(`b21${n}`), field(`b22${n}`)],
    ['1', '0'],
  ],
  piC: [field(`c1${n}`), field(`c2${n}`), '1'],
  protocol: 'groth16',
  curve: 'bn128',
})

export function sampleCommand(n: number): TopicValues['command'] {
  return {
    commandId: randomUUID(),
    idempotencyKey: `idem-${n}`,
    issuedAt: Date.now(),
    actor: { kind: 'API_KEY', id: 'key_test' },
    payload: {
      'io.veridis.command.VerifyCommand': {
        circuit: 'IDENTITY_MEMBERSHIP',
        proof: proof(n),
        publicSignals: [field(`s1${n}`), field(`s2${n}`)],
        expectedChain: null,
      },
    },
  }
}

export const SAMPLE_RECORDS: { [K in keyof TopicValues]: (n: number) => TopicValues[K] } = {
  attestation: (n) => sampleAttestation(n),
  nullifier: (n) => sampleNullifier(n),
  bridge: (n) => sampleBridge(n),
  command: sampleCommand,
  proof: (n) => ({
    resultId: randomUUID(),
    commandId: randomUUID(),
    sourceEventId: null,
    circuit: 'ATTESTATION_DISCLOSURE',
    status: 'GENERATED',
    proof: proof(n),
    publicSignals: [field(`p${n}`)],
    reason: null,
    durationMs: 812.5,
    producedAt: Date.now(),
  }),
  propagation: (n) => ({
    scope: field('scope'),
    nullifier: field(`n${n}`),
    sourceChain: 'eip155:31337',
    sourceEventId: sampleEnvelope(n).eventId,
    targetChain: 'eip155:31338',
    outcome: 'PROPAGATED',
    txHash: hex(`ptx${n}`),
    reason: null,
    latencyMs: 1250,
    at: Date.now(),
  }),
  alert: (n) => ({
    alertId: hex(`alert${n}`),
    kind: 'DOUBLE_NULLIFIER_USE',
    severity: 'CRITICAL',
    chain: null,
    summary: 'nullifier used on two chains',
    evidence: [
      {
        eventId: sampleEnvelope(n).eventId,
        chain: 'eip155:31337',
        txHash: hex(`t${n}`),
        blockNumber: 12,
        role: 'first use',
      },
      {
        eventId: sampleEnvelope(n + 1).eventId,
        chain: 'eip155:31338',
        txHash: null,
        blockNumber: null,
        role: 'second use',
      },
    ],
    details: { scope: field('scope') },
    detectedAt: Date.now(),
    detection: 'double-nullifier-use',
    status: 'RAISED',
    revision: 0,
    occurrences: 1,
    chains: ['eip155:31337', 'eip155:31338'],
  }),
  audit: (n) => ({
    auditId: randomUUID(),
    chainId: 'partition-0',
    sequence: n,
    prevHash: '0'.repeat(64),
    recordHash: createHash('sha256').update(`r${n}`).digest('hex'),
    action: 'command.accepted',
    actor: { kind: 'SERVICE', id: 'gateway' },
    subjectHash: createHash('sha256').update(`subject${n}`).digest('hex'),
    gdprCategory: 'IDENTIFIER',
    legalBasis: 'CONTRACT',
    retentionDays: 365,
    references: [randomUUID()],
    details: {},
    occurredAt: Date.now(),
  }),
  auditIntake: (n) => ({
    factId: randomUUID(),
    action: n % 2 === 0 ? 'command.accepted' : 'command.refused',
    actor: { kind: 'API_KEY', id: `key${n}` },
    status: n % 2 === 0 ? 202 : 403,
    commandType: 'ProveCommand',
    commandId: n % 2 === 0 ? randomUUID() : null,
    idempotencyKey: null,
    reason: n % 2 === 0 ? null : 'role may not send ProveCommand',
    requestId: `req-${n}`,
    occurredAt: Date.now(),
  }),
  deadLetter: (n) => ({
    topic: 'veridis.command.v1',
    partition: 0,
    offset: String(n),
    timestamp: Date.now(),
    key: Buffer.from(`k${n}`),
    value: Buffer.from([0, 1, 2, 3]),
    headers: { eventId: Buffer.from(`e${n}`) },
    consumerGroup: 'veridis.test',
    reason: 'UNDECODABLE',
    errorName: 'UndecodableMessageError',
    errorMessage: 'value does not start with the Confluent magic byte 0',
    attempts: 1,
    firstFailedAt: Date.now(),
    deadLetteredAt: Date.now(),
  }),
}
