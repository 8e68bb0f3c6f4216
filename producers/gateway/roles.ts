import type { CommandRecordName } from './contract.ts'

/**
 * Roles decide which commands a caller may send; they come from a JWT's `roles` claim or
 * are stored with an API key. Reading other callers' commands is a right of its own, and so
 * is running the security checks that cost RPC reads on the chains (`securityChecks`).
 */
export const ROLES = {
  admin: {
    commands: [
      'ProveCommand',
      'VerifyCommand',
      'RegisterAttestationCommand',
      'PropagateNullifierCommand',
      'RequestErasureCommand',
      'AnalyzeBridgeCommand',
      'AnalyzeTransactionCommand',
    ],
    readsAllCommands: true,
    securityChecks: true,
  },
  prover: { commands: ['ProveCommand', 'VerifyCommand'], readsAllCommands: false, securityChecks: false },
  verifier: { commands: ['VerifyCommand'], readsAllCommands: false, securityChecks: false },
  attester: { commands: ['RegisterAttestationCommand'], readsAllCommands: false, securityChecks: false },
  relayer: { commands: ['PropagateNullifierCommand'], readsAllCommands: false, securityChecks: false },
  compliance: { commands: ['RequestErasureCommand'], readsAllCommands: false, securityChecks: false },
  analyst: {
    commands: ['AnalyzeBridgeCommand', 'AnalyzeTransactionCommand'],
    readsAllCommands: false,
    securityChecks: true,
  },
  auditor: { commands: [], readsAllCommands: true, securityChecks: false },
  reader: { commands: [], readsAllCommands: false, securityChecks: false },
} as const satisfies Record<
  string,
  { commands: readonly CommandRecordName[]; readsAllCommands: boolean; securityChecks: boolean }
>

export type Role = keyof typeof ROLES

export const ROLE_NAMES = Object.keys(ROLES) as Role[]

export function isRole(value: string): value is Role {
  return Object.hasOwn(ROLES, value)
}

export function maySend(roles: readonly Role[], command: CommandRecordName): boolean {
  return roles.some((role) => (ROLES[role].commands as readonly string[]).includes(command))
}

export function readsAllCommands(roles: readonly Role[]): boolean {
  return roles.some((role) => ROLES[role].readsAllCommands)
}

/** Security checks that read the chains (attestation verdicts): admins and analysts. */
export function runsSecurityChecks(roles: readonly Role[]): boolean {
  return roles.some((role) => ROLES[role].securityChecks)
}
