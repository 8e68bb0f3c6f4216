import { existsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { run } from '../../infra/stack/run.ts'
import { ensurePythonVenv } from '../../infra/stack/system.ts'

/**
 * Schemathesis (PyPI), pinned, in a virtualenv under the project's cache directory:
 * installed on first use by the fuzz test, reused after.
 */
export const SCHEMATHESIS = 'schemathesis==4.32.5'

export async function ensureSchemathesis(
  progress: (message: string) => void = () => undefined,
): Promise<string> {
  const cacheDir = path.resolve(process.env.VERIDIS_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'veridis'))
  const venv = path.join(cacheDir, SCHEMATHESIS.replace(/\W+/g, '-'))
  const binary = path.join(venv, 'bin', 'schemathesis')
  if (existsSync(path.join(venv, '.complete'))) return binary
  await ensurePythonVenv(progress)
  progress(`installing ${SCHEMATHESIS} from PyPI into ${venv}`)
  await run('python3', ['-m', 'venv', '--clear', venv])
  await run(path.join(venv, 'bin', 'pip'), [
    'install',
    '--quiet',
    '--disable-pip-version-check',
    SCHEMATHESIS,
  ])
  writeFileSync(path.join(venv, '.complete'), `${SCHEMATHESIS}\n`)
  return binary
}
