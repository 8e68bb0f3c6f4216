import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { PROJECT_ROOT } from '../../core/paths.ts'

/**
 * The layering rules of .dependency-cruiser.cjs, run by `npm test` over the real tree, are
 * shown here to catch what they promise to catch: small trees that close a cycle between
 * top-level folders, or import test code from production, are refused by the same rule file.
 */
const fixtures: string[] = []
afterAll(() => {
  for (const dir of fixtures) rmSync(dir, { recursive: true, force: true })
})

/** Runs the project's rule file over a small tree; async, so the test worker stays responsive. */
async function cruise(files: Record<string, string>): Promise<{ status: number; output: string }> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'veridis-layers-'))
  fixtures.push(root)
  writeFileSync(
    path.join(root, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { allowImportingTsExtensions: true, noEmit: true, module: 'nodenext' },
    }),
  )
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
  const folders = [...new Set(Object.keys(files).map((file) => file.split('/')[0]!))]
  return new Promise((resolve) => {
    execFile(
      path.join(PROJECT_ROOT, 'node_modules/.bin/depcruise'),
      ['--config', path.join(PROJECT_ROOT, '.dependency-cruiser.cjs'), '--output-type', 'err', ...folders],
      { cwd: root, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ status, output: `${stdout}${stderr}` })
      },
    )
  })
}

describe('layering between top-level folders', () => {
  test('behavior: imports downward through the layers pass', async () => {
    const result = await cruise({
      'core/paths.ts': 'export const root = 1\n',
      'producers/listener.ts': "import { root } from '../core/paths.ts'\nexport const listener = root\n",
      'consumers/ledger.ts':
        "import { listener } from '../producers/listener.ts'\nexport const ledger = listener\n",
      'infra/stack.ts': "import { ledger } from '../consumers/ledger.ts'\nexport const stack = ledger\n",
    })
    expect(result.output).toMatch(/no dependency violations/)
    expect(result.status).toBe(0)
  })

  test('error: an import that closes a cycle between two top-level folders is refused', async () => {
    const result = await cruise({
      'core/config.ts': "import { chains } from '../producers/chains.ts'\nexport const config = chains\n",
      'producers/chains.ts':
        "import type { config } from '../core/config.ts'\nexport const chains = 1 as unknown as typeof config\n",
    })
    expect(result.status).not.toBe(0)
    expect(result.output).toMatch(/layer-core: core\/config\.ts → producers\/chains\.ts/)
  })

  test('error: a cycle through three folders is refused at its upward edge', async () => {
    // consumers → producers → infra → consumers: the shape issue 12 found in this tree.
    const result = await cruise({
      'consumers/writers.ts': "import { evm } from '../producers/evm.ts'\nexport const writers = evm\n",
      'producers/evm.ts': "import { anvil } from '../infra/anvil.ts'\nexport const evm = anvil\n",
      'infra/anvil.ts': "import { writers } from '../consumers/writers.ts'\nexport const anvil = writers\n",
    })
    expect(result.status).not.toBe(0)
    expect(result.output).toMatch(/layer-producers: producers\/evm\.ts → infra\/anvil\.ts/)
  })

  test('error: production code importing test/ or bench/ is refused; a colocated unit test may', async () => {
    const result = await cruise({
      'test/support.ts': 'export const helper = 1\n',
      'producers/gateway.ts': "import { helper } from '../test/support.ts'\nexport const gateway = helper\n",
      'producers/gateway.test.ts':
        "import { helper } from '../test/support.ts'\nexport const probe = helper\n",
    })
    expect(result.status).not.toBe(0)
    expect(result.output).toMatch(/production-imports-tests: producers\/gateway\.ts → test\/support\.ts/)
    expect(result.output).not.toMatch(/gateway\.test\.ts/)
  })
})
