import avro from 'avsc'
import Fastify from 'fastify'
import { describe, expect, test } from 'vitest'
import { TOPICS } from '../../core/bus/topics.ts'
import {
  bodySchemaFor,
  COMMAND_ROUTES,
  type CommandRoute,
  commandSchema,
  payloadFor,
} from '../../producers/gateway/contract.ts'
import { AJV_FORMATS, BN254_BASE_MODULUS, BN254_SCALAR_MODULUS } from '../../producers/gateway/fields.ts'
import { loadTopicSchema } from '../../schemas/load.ts'
import { VALID_BODIES } from './support.ts'

/**
 * The HTTP schemas come from the Avro command schema; these tests hold them to it: same
 * fields, same required set, and nothing the HTTP layer accepts that Avro would refuse.
 */
const commandType = avro.Type.forSchema(loadTopicSchema(TOPICS.command.valueSchemaFile) as avro.Schema)

// The same Ajv settings the gateway uses, through Fastify's own compiler.
async function validatorFor(route: CommandRoute) {
  const app = Fastify({
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, formats: AJV_FORMATS },
    },
  })
  app.post('/', { schema: { body: bodySchemaFor(route) } }, async () => ({ ok: true }))
  await app.ready()
  return async (body: unknown) => {
    const response = await app.inject({ method: 'POST', url: '/', payload: body as object })
    return response.statusCode === 200
  }
}

const avroAccepts = (route: CommandRoute, body: Record<string, unknown>) =>
  commandType.isValid({
    commandId: '00000000-0000-4000-8000-000000000000',
    idempotencyKey: 'k',
    issuedAt: Date.now(),
    actor: { kind: 'USER', id: 'u' },
    payload: payloadFor(route, withDefaults(route, body)),
  })

// Avro needs every field, JSON fills defaults (Fastify's useDefaults does it in the gateway).
function withDefaults(route: CommandRoute, body: Record<string, unknown>) {
  const schema = bodySchemaFor(route) as { properties: Record<string, { default?: unknown }> }
  const filled = { ...body }
  for (const [name, property] of Object.entries(schema.properties)) {
    if (!(name in filled) && property.default !== undefined) filled[name] = property.default
  }
  return filled
}

/** Every way of breaking one field at a time: missing, wrong types, an extra field. */
function mutations(body: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{ ...body, unexpected: 'x' }]
  const walk = (value: unknown, replace: (next: unknown) => Record<string, unknown>) => {
    for (const wrong of [1, null, true, 'text', [], {}]) out.push(replace(wrong))
    if (Array.isArray(value))
      for (const [index, item] of value.entries())
        walk(item, (next) => replace(value.map((v, i) => (i === index ? next : v))))
    else if (value && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        const { [key]: _removed, ...rest } = value as Record<string, unknown>
        out.push(replace(rest))
        walk((value as Record<string, unknown>)[key], (next) =>
          replace({ ...(value as object), [key]: next }),
        )
      }
    }
  }
  walk(body, (next) => next as Record<string, unknown>)
  return out.filter((candidate) => candidate && typeof candidate === 'object' && !Array.isArray(candidate))
}

describe('HTTP contract derived from the Avro command schema', () => {
  test('behavior: every command type of the payload union has an endpoint', () => {
    const { branches } = commandSchema()
    const routed = new Set(COMMAND_ROUTES.map((route) => route.record))
    expect([...branches.keys()].sort()).toEqual([...routed].sort())
  })

  test('behavior: same fields and same required fields as the Avro records', () => {
    const { branches } = commandSchema()
    for (const route of COMMAND_ROUTES) {
      const record = branches.get(route.record)!
      const schema = bodySchemaFor(route) as {
        properties: Record<string, unknown>
        required: string[]
        additionalProperties: boolean
      }
      const fixed = Object.keys(route.fixed ?? {})
      const fields = record.fields.map((field) => field.name).filter((name) => !fixed.includes(name))
      expect(Object.keys(schema.properties).sort(), route.url).toEqual([...fields].sort())
      const required = record.fields
        .filter((field) => field.default === undefined && !fixed.includes(field.name))
        .map((field) => field.name)
      expect([...schema.required].sort(), route.url).toEqual(required.sort())
      expect(schema.additionalProperties).toBe(false)
    }
  })

  test('behavior: valid bodies pass both; every mutation HTTP accepts, Avro accepts too', async () => {
    let refusedByBoth = 0
    for (const route of COMMAND_ROUTES) {
      const body = VALID_BODIES[route.url]!
      const httpAccepts = await validatorFor(route)
      expect(await httpAccepts(body), route.url).toBe(true)
      expect(avroAccepts(route, body), route.url).toBe(true)
      for (const mutated of mutations(body)) {
        const http = await httpAccepts(mutated)
        const avroOk = avroAccepts(route, mutated)
        // The HTTP layer may be stricter, never looser.
        if (http) expect(avroOk, `${route.url} ${JSON.stringify(mutated)}`).toBe(true)
        if (!avroOk) refusedByBoth++
      }
    }
    expect(refusedByBoth).toBeGreaterThan(50)
  })

  test('error: field elements at and above the moduli are refused, just below accepted', async () => {
    const prove = COMMAND_ROUTES.find((route) => route.url === '/api/v1/proofs/identity')!
    const verify = COMMAND_ROUTES.find((route) => route.url === '/api/v1/proofs/verify')!
    const proveOk = await validatorFor(prove)
    const r = BN254_SCALAR_MODULUS
    expect(await proveOk({ inputs: { x: [(r - 1n).toString()] } })).toBe(true)
    expect(await proveOk({ inputs: { x: [r.toString()] } })).toBe(false)
    for (const bad of ['-1', '01', '1.5', '0x10', ' 1', '', `${'9'.repeat(78)}`]) {
      expect(await proveOk({ inputs: { x: [bad] } }), bad).toBe(false)
    }
    // Proof coordinates live in the base field, which is larger than the scalar field.
    const verifyOk = await validatorFor(verify)
    const proof = VALID_BODIES['/api/v1/proofs/verify'] as { proof: { piA: string[] } }
    const withPiA = (value: string) => ({ ...proof, proof: { ...proof.proof, piA: [value, '2', '1'] } })
    expect(await verifyOk(withPiA(r.toString()))).toBe(true)
    expect(await verifyOk(withPiA((BN254_BASE_MODULUS - 1n).toString()))).toBe(true)
    expect(await verifyOk(withPiA(BN254_BASE_MODULUS.toString()))).toBe(false)
  })

  test('error: chain ids must be CAIP-2 chains Veridis knows; hashes must be 32-byte hex', async () => {
    const bridge = COMMAND_ROUTES.find((route) => route.url === '/api/v1/analysis/bridge')!
    const ok = await validatorFor(bridge)
    const good = VALID_BODIES[bridge.url]!
    expect(await ok(good)).toBe(true)
    expect(await ok({ ...good, chain: 'ethereum' })).toBe(false)
    expect(await ok({ ...good, chain: 'eip155:999999' })).toBe(false)
    expect(await ok({ ...good, messageId: `0x${'cd'.repeat(31)}` })).toBe(false)
    expect(await ok({ ...good, messageId: `${'cd'.repeat(32)}` })).toBe(false)
  })
})
