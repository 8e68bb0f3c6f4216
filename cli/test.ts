import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../core/paths.ts'

/**
 * The project's whole check, as the README's test command runs it: generated types are
 * current, lint and format, types, then both vitest projects in one run: `unit` (no
 * service) and `integration` (the real local stack: test/setup/global.ts starts it if it
 * is not running and stops what it started). Ends with one `N passed, N failed, N skipped`
 * line.
 */
function step(name: string, command: string, args: readonly string[]): Promise<number> {
  process.stderr.write(`\nveridis test: ${name}\n`)
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd: PROJECT_ROOT, stdio: 'inherit' })
    child.on('close', (code) => resolve(code ?? 1))
    child.on('error', () => resolve(127))
  })
}

const bin = (name: string) => path.join(PROJECT_ROOT, 'node_modules', '.bin', name)

/** Every top-level folder holding TypeScript, production and test alike (.dependency-cruiser.cjs). */
const SOURCE_FOLDERS = [
  'schemas',
  'core',
  'circuits',
  'contracts',
  'producers',
  'consumers',
  'monitor',
  'infra',
  'cli',
  'bench',
  'test',
]

export async function runTests(vitestArgs: readonly string[]): Promise<number> {
  const cli = [path.join(PROJECT_ROOT, 'bin', 'veridis')]
  const checks: [string, string, string[]][] = [
    ['generated Avro types are current', cli[0]!, ['schemas', 'check']],
    ['circuit artifacts match their sources', cli[0]!, ['circuits', 'check']],
    ['contract artifacts are current', cli[0]!, ['contracts', 'check']],
    ['lint and format (biome)', bin('biome'), ['ci', '.']],
    ['types (tsc --noEmit)', bin('tsc'), ['-p', 'tsconfig.json']],
    [
      'imports between top-level folders follow the layers (dependency-cruiser)',
      bin('depcruise'),
      ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...SOURCE_FOLDERS],
    ],
    ['no dead files, exports or dependencies (knip)', bin('knip'), ['--no-progress']],
  ]
  let failed = 0
  for (const [name, command, args] of checks) {
    if ((await step(name, command, args)) !== 0) {
      process.stderr.write(`veridis test: ${name}: FAILED\n`)
      failed++
    }
  }

  const reportDir = path.join(PROJECT_ROOT, '.veridis', 'test-results')
  mkdirSync(reportDir, { recursive: true })
  const report = path.join(reportDir, 'vitest.json')
  const code = await step('tests (vitest: unit, and integration on the real stack)', bin('vitest'), [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...vitestArgs,
  ])

  let passed = 0
  let testsFailed = 0
  let skipped = 0
  try {
    const results = JSON.parse(readFileSync(report, 'utf8')) as {
      numPassedTests: number
      numFailedTests: number
      numPendingTests: number
      numTodoTests: number
    }
    passed = results.numPassedTests
    testsFailed = results.numFailedTests
    skipped = results.numPendingTests + results.numTodoTests
  } catch {
    testsFailed = Math.max(1, testsFailed)
  }
  const total = testsFailed + failed
  process.stdout.write(`\n${passed} passed, ${total} failed, ${skipped} skipped\n`)
  if (code !== 0 || total > 0) return 1
  return passed > 0 ? 0 : 1
}
