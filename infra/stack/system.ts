import { existsSync, readdirSync } from 'node:fs'
import { commandExists, run } from './run.ts'
import type { Progress } from './service.ts'

/**
 * System packages from Debian, installed on first use. apt is only touched when something
 * is missing, and `apt-get update` runs at most once per process.
 */
let aptUpdated = false

export async function aptInstall(packages: readonly string[], progress: Progress) {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `missing system packages: ${packages.join(' ')}; install them with: sudo apt-get install -y ${packages.join(' ')}`,
    )
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  if (!aptUpdated) {
    progress('apt: updating package lists')
    await run('apt-get', ['update', '-q'], { env, progress: true })
    aptUpdated = true
  }
  progress(`apt: installing ${packages.join(' ')}`)
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
    env,
    progress: true,
  })
}

export async function ensureJava(progress: Progress) {
  if (!(await commandExists('java'))) await aptInstall(['openjdk-17-jre-headless'], progress)
}

export async function ensureMaven(progress: Progress) {
  if (!(await commandExists('mvn'))) await aptInstall(['maven'], progress)
}

export async function ensurePythonVenv(progress: Progress) {
  try {
    await run('python3', ['-c', 'import venv, ensurepip'])
  } catch {
    await aptInstall(['python3-venv'], progress)
  }
}

/** The newest PostgreSQL server installed from Debian's packages, installing it if there is none. */
export async function ensurePostgres(progress: Progress): Promise<string> {
  const find = () => {
    const root = '/usr/lib/postgresql'
    if (!existsSync(root)) return undefined
    const versions = readdirSync(root)
      .filter((version) => existsSync(`${root}/${version}/bin/postgres`))
      .sort((a, b) => Number(b) - Number(a))
    return versions[0] ? `${root}/${versions[0]}/bin` : undefined
  }
  const found = find()
  if (found) return found
  await aptInstall(['postgresql'], progress)
  const installed = find()
  if (!installed)
    throw new Error('postgresql was installed but no server binary was found under /usr/lib/postgresql')
  return installed
}
