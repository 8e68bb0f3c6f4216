import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import { createCommandSealerFor } from '../../consumers/audit/vault.ts'
import { loadConfig } from '../../core/config/env.ts'
import { createCommon } from '../../core/context.ts'
import { createGateway, type Gateway } from '../../producers/gateway/index.ts'
import type { Role } from '../../producers/gateway/roles.ts'
import { type TestBus, testEnv } from '../support/harness.ts'

export const JWT_SECRET = randomBytes(32).toString('hex')
export const JWT_ISSUER = 'https://issuer.test.veridis'
export const JWT_AUDIENCE = 'veridis-gateway-test'

/** Gateway settings for tests: a known HS256 secret, small limits where a test needs them. */
export function gatewayEnv(namespace: string, overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...testEnv(namespace),
    VERIDIS_GATEWAY_JWT_HS256_SECRET: JWT_SECRET,
    VERIDIS_GATEWAY_JWT_ISSUER: JWT_ISSUER,
    VERIDIS_GATEWAY_JWT_AUDIENCE: JWT_AUDIENCE,
    VERIDIS_GATEWAY_RATE_LIMIT: '100000',
    // Every test request comes from 127.0.0.1: the per-source limit is a test of its own.
    VERIDIS_GATEWAY_SOURCE_RATE_LIMIT: '10000000',
    ...overrides,
  }
}

export async function startTestGateway(
  testBus: TestBus,
  overrides: NodeJS.ProcessEnv = {},
  options: Parameters<typeof createGateway>[2] = {},
): Promise<Gateway> {
  const config = loadConfig(gatewayEnv(testBus.namespace, overrides))
  const common = createCommon('gateway-test', { config, exit: () => undefined })
  return createGateway(common, createCommandSealerFor, {
    healthIntervalMs: 250,
    apiKeyCacheMs: 0,
    opsPort: 0,
    ...options,
  })
}

/** A signed JWT as an identity provider would issue it. */
export async function token(
  subject: string,
  roles: readonly Role[] | readonly string[],
  options: { secret?: string; issuer?: string; audience?: string; expiresIn?: string } = {},
): Promise<string> {
  return new SignJWT({ roles: [...roles] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(options.issuer ?? JWT_ISSUER)
    .setAudience(options.audience ?? JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(Buffer.from(options.secret ?? JWT_SECRET, 'utf8'))
}

export const bearer = async (subject: string, roles: readonly Role[]) => ({
  authorization: `Bearer ${await token(subject, roles)}`,
})

/** Removes this namespace's rows from the shared read-model tables. */
export async function cleanReadModels(testBus: TestBus, callers: readonly string[] = []) {
  const like = `${testBus.namespace}.%`
  for (const table of [
    'read_commands',
    'read_proof_results',
    'read_nullifier_propagations',
    'read_alerts',
    'read_audit_references',
  ]) {
    await testBus.pool.query(`DELETE FROM ${table} WHERE source_topic LIKE $1`, [like])
  }
  if (callers.length > 0)
    await testBus.pool.query('DELETE FROM gateway_idempotency WHERE caller = ANY($1)', [callers])
}

// Valid bodies, one per command route (field elements below the modulus, known chains).
export const FIELD = '12345678901234567890'
export const VALID_BODIES: Record<string, Record<string, unknown>> = {
  '/api/v1/proofs/identity': { inputs: { secret: [FIELD], merkleProofSiblings: ['1', '2', '3'] } },
  '/api/v1/proofs/attestation': { inputs: { attribute: ['7'] } },
  '/api/v1/proofs/erasure': { inputs: { key: ['0'] } },
  '/api/v1/proofs/verify': {
    circuit: 'IDENTITY_MEMBERSHIP',
    proof: {
      piA: ['1', '2', '1'],
      piB: [
        ['1', '2'],
        ['3', '4'],
        ['1', '0'],
      ],
      piC: ['5', '6', '1'],
      protocol: 'groth16',
      curve: 'bn128',
    },
    publicSignals: [FIELD, '42'],
  },
  '/api/v1/attestations': {
    chain: 'eip155:31337',
    registry: `0x${'ab'.repeat(20)}`,
    attestationId: '99',
    root: FIELD,
  },
  '/api/v1/nullifiers/propagate': {
    scope: '1',
    nullifier: FIELD,
    sourceChain: 'eip155:31337',
    targetChains: ['eip155:31338'],
  },
  '/api/v1/erasure-requests': { subjectId: 'subject-123', reason: 'user request' },
  '/api/v1/analysis/bridge': { chain: 'eip155:31337', messageId: `0x${'cd'.repeat(32)}` },
  '/api/v1/analysis/transaction': { chain: 'eip155:31338', txHash: `0x${'ef'.repeat(32)}` },
}
