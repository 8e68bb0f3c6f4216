import { type CircuitSpec, SNARK_SCALAR_FIELD } from '../../circuits/catalog.ts'

/** Inputs a circuit can never accept; the message names the signal, never its value. */
export class InvalidInputsError extends Error {
  override name = 'InvalidInputsError'
}

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/

/**
 * Checks a prove command's inputs against the circuit before any witness is computed:
 * every signal present with its length, nothing unknown, every value a canonical field
 * element. The witness calculator would silently reduce a value ≥ p modulo p, so a
 * caller could pass two encodings of one element; refusing them keeps inputs canonical.
 */
export function checkInputs(
  spec: CircuitSpec,
  inputs: Readonly<Record<string, readonly string[]>>,
): Record<string, string[]> {
  const problems: string[] = []
  for (const name of Object.keys(inputs)) {
    if (!(name in spec.inputs)) problems.push(`unknown input '${name}'`)
  }
  const checked: Record<string, string[]> = {}
  for (const [name, length] of Object.entries(spec.inputs)) {
    const values = inputs[name]
    if (!values) {
      problems.push(`input '${name}' is missing`)
      continue
    }
    if (values.length !== length) {
      problems.push(`input '${name}' needs ${length} value${length === 1 ? '' : 's'}, got ${values.length}`)
      continue
    }
    values.forEach((value, index) => {
      const label = length === 1 ? name : `${name}[${index}]`
      if (!DECIMAL.test(value)) problems.push(`input '${label}' is not a decimal number`)
      else if (BigInt(value) >= SNARK_SCALAR_FIELD) {
        problems.push(`input '${label}' is not below the BN254 scalar field modulus`)
      }
    })
    checked[name] = [...values]
  }
  if (problems.length > 0) throw new InvalidInputsError(problems.join('; '))
  return checked
}

/**
 * A witness failure as a reason safe to publish: circom's messages name the template and
 * line of the failed assertion ("Error in template EdDSAPoseidonVerifier_216 line: 123"),
 * never a signal value; anything else is summarised.
 */
export function witnessFailureReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const templates = [...message.matchAll(/Error in template (\w+?)(?:_\d+)? line: (\d+)/g)].map(
    ([, template, line]) => `${template}:${line}`,
  )
  if (/Assert Failed/i.test(message) || templates.length > 0) {
    return `inputs do not satisfy the circuit (failed constraint in ${templates.join(' < ') || 'the circuit'})`
  }
  if (/Not enough values|Too many values|Signal not found/i.test(message)) {
    return 'inputs do not match the circuit signals'
  }
  return 'witness computation failed'
}
