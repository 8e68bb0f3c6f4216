import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { localSecret } from '../../core/local-secrets.ts'
import { managedProcess, runningPid, startDetached, stopProcess } from './process.ts'
import { run } from './run.ts'
import type { StackContext, StackService } from './service.ts'
import { ensurePostgres } from './system.ts'

/**
 * PostgreSQL from Debian's packages with a data directory in the project. The server
 * refuses to run as root, so under root it runs as the `postgres` system user the package
 * creates. Loopback TCP only, password (SCRAM) authentication for everyone; the superuser
 * password is generated once and kept in the project's secrets directory.
 */
let binDir: string | undefined

const proc = (context: StackContext) =>
  managedProcess(context.layout.runDir, context.layout.logDir, 'postgres')
const clusterDir = (context: StackContext) => path.join(context.layout.dataDir, 'postgres')
const pgData = (context: StackContext) => path.join(clusterDir(context), 'pgdata')

async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  const uid = Number((await run('id', ['-u', 'postgres'])).trim())
  const gid = Number((await run('id', ['-g', 'postgres'])).trim())
  return { uid, gid }
}

const superuserPassword = (context: StackContext) =>
  localSecret(context.layout.secretsDir, 'postgres-superuser')

/** A client as the cluster's superuser, for bootstrapping roles and databases. */
export function superuserClient(context: StackContext, database = 'postgres'): pg.Client {
  return new pg.Client({
    host: '127.0.0.1',
    port: context.layout.ports.postgres,
    user: 'postgres',
    password: superuserPassword(context),
    database,
    connectionTimeoutMillis: 2_000,
  })
}

/** Creates a login role and a database it owns, or brings the password up to date. */
export async function ensureRoleAndDatabase(
  context: StackContext,
  role: { user: string; password: string; database: string },
) {
  const client = superuserClient(context)
  await client.connect()
  try {
    const ident = (name: string) => `"${name.replaceAll('"', '""')}"`
    const literal = (value: string) => `'${value.replaceAll("'", "''")}'`
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.user])
    const verb = exists.rowCount ? 'ALTER' : 'CREATE'
    await client.query(`${verb} ROLE ${ident(role.user)} LOGIN PASSWORD ${literal(role.password)}`)
    const database = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [role.database])
    if (!database.rowCount)
      await client.query(`CREATE DATABASE ${ident(role.database)} OWNER ${ident(role.user)}`)
  } finally {
    await client.end()
  }
}

export const postgresService: StackService = {
  name: 'postgres',
  logFile: (context) => proc(context).logFile,

  async install(context) {
    binDir = await ensurePostgres(context.progress)
    if (existsSync(path.join(pgData(context), 'PG_VERSION'))) return
    context.progress(`postgres: initialising a cluster in ${pgData(context)}`)
    const owner = await serverUser()
    // Parents keep the default mode: the server user must be able to traverse them.
    mkdirSync(path.dirname(clusterDir(context)), { recursive: true })
    mkdirSync(clusterDir(context), { recursive: true, mode: 0o700 })
    if (owner) chownSync(clusterDir(context), owner.uid, owner.gid)
    // initdb reads the password from a file the server user can read; it is removed at once.
    const passwordFile = path.join(clusterDir(context), '.initdb-password')
    writeFileSync(passwordFile, superuserPassword(context), { mode: 0o600 })
    if (owner) chownSync(passwordFile, owner.uid, owner.gid)
    try {
      await run(
        path.join(binDir, 'initdb'),
        [
          '-D',
          pgData(context),
          '-U',
          'postgres',
          '--auth=scram-sha-256',
          `--pwfile=${passwordFile}`,
          '-E',
          'UTF8',
          '--no-instructions',
        ],
        owner ?? {},
      )
    } finally {
      rmSync(passwordFile, { force: true })
    }
  },

  async start(context) {
    if (runningPid(proc(context))) return 'already running'
    binDir ??= await ensurePostgres(context.progress)
    const owner = await serverUser()
    // The log file is opened by us and inherited, so the server user needs no access to it.
    startDetached(proc(context), {
      command: path.join(binDir, 'postgres'),
      args: [
        '-D',
        pgData(context),
        '-p',
        String(context.layout.ports.postgres),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=128MB',
      ],
      ...(owner ?? {}),
    })
    return 'started'
  },

  async isHealthy(context) {
    const client = superuserClient(context)
    try {
      await client.connect()
      await client.query('SELECT 1')
      return true
    } catch {
      return false
    } finally {
      await client.end().catch(() => undefined)
    }
  },

  // SIGINT is Postgres's "fast" shutdown: SIGTERM ("smart") would wait for every open
  // session, a psql left open included.
  stop: async (context) => stopProcess(proc(context), 20_000, 'SIGINT'),
  pid: (context) => runningPid(proc(context)),
  describe: (context) => `127.0.0.1:${context.layout.ports.postgres}, data ${pgData(context)}`,
}
