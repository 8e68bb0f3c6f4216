import type { CommandRecordName } from './contract.ts'

/**
 * Roles decide which commands a caller may send; they come from a JWT's `roles` claim or
 * are stored with an API key. Reading other callers' commands is a right of its own.
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
  },
  prover: { commands: ['ProveCommand', 'VerifyCommand'], readsAllCommands: false },
  verifier: { commands: ['VerifyCommand'], readsAllCommands: false },
  attester: { commands: ['RegisterAttestationCommand'], readsAllCommands: false },
  relayer: { commands: ['PropagateNullifierCommand'], readsAllCommands: false },
  compliance: { commands: ['RequestErasureCommand'], readsAllCommands: false },
  analyst: { commands: ['AnalyzeBridgeCommand', 'AnalyzeTransactionCommand'], readsAllCommands: false },
  auditor: { commands: [], readsAllCommands: true },
  reader: { commands: [], readsAllCommands: false },
} as const satisfies Record<string, { commands: readonly CommandRecordName[]; readsAllCommands: boolean }>

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
