import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RetryableError } from '../errors.ts'
import {
  createSchemaRegistryClient,
  IncompatibleSchemaError,
  SchemaRegistryRequestError,
} from './schema-registry.ts'

// How the client classifies answers; what a real registry answers is tested against
// Apicurio in test/schemas/registry.test.ts.
const answers: { status: number; body: string }[] = []
const requests: string[] = []
const server = createServer((request, response) => {
  requests.push(`${request.method} ${request.url}`)
  const answer = answers.shift() ?? { status: 500, body: '{}' }
  response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body)
})
let url = ''

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const client = () => createSchemaRegistryClient({ url, auth: undefined })

describe('schema registry client', () => {
  test('behavior: a failing registry is asked again before the failure is reported as retryable', async () => {
    requests.length = 0
    answers.push({ status: 503, body: '' }, { status: 200, body: '{"schema":"\\"string\\""}' })
    await expect(client().schemaById(4)).resolves.toBe('"string"')
    expect(requests).toEqual(['GET /schemas/ids/4', 'GET /schemas/ids/4'])

    answers.push({ status: 500, body: '' }, { status: 500, body: '' }, { status: 429, body: '' })
    await expect(client().schemaById(4)).rejects.toBeInstanceOf(RetryableError)
  })

  test('error: a refused request is not retried; a refused registration is IncompatibleSchemaError', async () => {
    requests.length = 0
    answers.push({ status: 404, body: '{"error_code":40403}' })
    const unknown = await client()
      .schemaById(99)
      .catch((error: unknown) => error)
    expect(unknown).toBeInstanceOf(SchemaRegistryRequestError)
    expect((unknown as SchemaRegistryRequestError).status).toBe(404)
    expect(requests).toHaveLength(1)

    answers.push({ status: 409, body: '{"error_code":409}' })
    await expect(client().register('t-value', 'string')).rejects.toBeInstanceOf(IncompatibleSchemaError)
  })

  test('error: an unreachable registry is retryable', async () => {
    const closed = createSchemaRegistryClient({ url: 'http://127.0.0.1:1', auth: undefined })
    await expect(closed.schemaById(1)).rejects.toBeInstanceOf(RetryableError)
  })
})
