import type { KeyObject } from 'node:crypto'
import type { Command } from '../bus/types.ts'
import { createProveInputSealer, unsealedSignals } from './prover-seal.ts'
import {
  looksSealedForSubject,
  type SubjectField,
  type SubjectKey,
  sealSubjectValue,
} from './subject-seal.ts'

/**
 * Seals what a command must not carry in clear before it is published: subject ids and
 * erasure reasons under the subject's own data key, prove inputs to the prover's key
 * (DESIGN §4 "Personal data"). The gateway calls this for every command it writes;
 * upstream systems writing to the topic directly produce the same formats.
 */

/** Where a writer gets a subject's data key: created on first use, null once erased. */
export interface SubjectKeySource {
  keyFor(subjectId: string): Promise<SubjectKey>
}

const REGISTER = 'io.veridis.command.RegisterAttestationCommand'
const ERASURE = 'io.veridis.command.RequestErasureCommand'
const PROVE = 'io.veridis.command.ProveCommand'

export function createCommandSealer(options: { subjectKeys: SubjectKeySource; proverPublicKey: KeyObject }) {
  const { subjectKeys, proverPublicKey } = options
  const sealInputs = createProveInputSealer(proverPublicKey)
  const sealed = (key: SubjectKey, value: string, commandId: string, field: SubjectField) =>
    sealSubjectValue(key, value, { commandId, field })

  return {
    async seal(command: Command): Promise<Command> {
      const { commandId } = command
      const register = command.payload[REGISTER]
      if (register?.subjectId) {
        const key = await subjectKeys.keyFor(register.subjectId)
        return {
          ...command,
          payload: {
            [REGISTER]: {
              ...register,
              subjectId: sealed(key, register.subjectId, commandId, 'RegisterAttestationCommand.subjectId'),
            },
          },
        }
      }
      const erasure = command.payload[ERASURE]
      if (erasure) {
        const key = await subjectKeys.keyFor(erasure.subjectId)
        return {
          ...command,
          payload: {
            [ERASURE]: {
              subjectId: sealed(key, erasure.subjectId, commandId, 'RequestErasureCommand.subjectId'),
              // Free text that may name the subject: withheld once there is no key to seal it under.
              reason:
                erasure.reason === null || !key.dataKey
                  ? null
                  : sealed(key, erasure.reason, commandId, 'RequestErasureCommand.reason'),
            },
          },
        }
      }
      const prove = command.payload[PROVE]
      if (prove) {
        return {
          ...command,
          payload: {
            [PROVE]: { ...prove, inputs: sealInputs(commandId, prove.inputs) },
          },
        }
      }
      return command
    },
  }
}

export type CommandSealer = ReturnType<typeof createCommandSealer>

/**
 * The fields of a command that should be sealed and are not: a writer that put personal
 * data or private inputs on the topic in clear. Names only, never values.
 */
export function unsealedFields(command: Command): string[] {
  const found: string[] = []
  const register = command.payload[REGISTER]
  if (register?.subjectId && !looksSealedForSubject(register.subjectId))
    found.push('RegisterAttestationCommand.subjectId')
  const erasure = command.payload[ERASURE]
  if (erasure && !looksSealedForSubject(erasure.subjectId)) found.push('RequestErasureCommand.subjectId')
  if (erasure?.reason && !looksSealedForSubject(erasure.reason)) found.push('RequestErasureCommand.reason')
  const prove = command.payload[PROVE]
  if (prove) found.push(...unsealedSignals(prove.inputs).map((signal) => `ProveCommand.inputs.${signal}`))
  return found
}
