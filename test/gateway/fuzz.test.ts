import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { Gateway } from '../../producers/gateway/index.ts'
import { eventually, openTestBus, type TestBus } from '../support/harness.ts'
import { ensureSchemathesis } from './schemathesis.ts'
import { cleanReadModels, startTestGateway, token } from './support.ts'

let testBus: TestBus
let gateway: Gateway
let port: number

beforeAll(async () => {
  testBus = await openTestBus()
  gateway = await startTestGateway(testBus, { VERIDIS_LOG_LEVEL: 'fatal' })
  port = await gateway.listen(0)
  await eventually(async () =>
    (await gateway.ops.inject({ url: '/ready' })).statusCode === 200 ? true : undefined,
  )
}, 300_000)

afterAll(async () => {
  await gateway?.close()
  if (testBus) {
    await cleanReadModels(testBus, ['USER:fuzzer'])
    await testBus.close()
  }
})

function schemathesis(binary: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // Its example database and reports go to a scratch directory, not the checkout.
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'veridis-fuzz-'))
    const child = spawn(binary, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
    })
    child.on('close', () => rmSync(cwd, { recursive: true, force: true }))
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

describe('fuzzing from the OpenAPI document', () => {
  test('behavior: no generated input makes the gateway answer 500, and schema-invalid input is refused', async () => {
    const binary = await ensureSchemathesis((message) => process.stderr.write(`[fuzz] ${message}\n`))
    const jwt = await token('fuzzer', ['admin'])
    const { code, output } = await schemathesis(binary, [
      'run',
      // The document is served on the ops port; the API it describes on the public one.
      `http://127.0.0.1:${gateway.opsPort}/docs/openapi.json`,
      '--url',
      `http://127.0.0.1:${port}`,
      '--header',
      `Authorization: Bearer ${jwt}`,
      '--checks',
      'not_a_server_error,negative_data_rejection,status_code_conformance,content_type_conformance',
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      '40',
      '--workers',
      '2',
      '--generation-deterministic',
      '--request-timeout',
      '10',
    ])
    if (code !== 0) process.stderr.write(output)
    expect(output).toMatch(/API operations:|Selected:|operations/i)
    expect(code, output.slice(-3000)).toBe(0)
    // Every operation was exercised (9 command routes, status, network x2, security x5, bridge x3).
    expect(output).toMatch(/20 (selected|total)|Selected: 20/)
    const metrics = (await gateway.ops.inject({ url: '/metrics' })).body
    expect(metrics).not.toMatch(/http_requests_total\{[^}]*status_code="5\d\d"/)
  }, 600_000)
})
