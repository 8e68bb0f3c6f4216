import { execFile } from 'node:child_process'
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { keySubject, valueSubject } from '../../core/bus/codec.ts'
import type { Bus } from '../../core/bus/connect.ts'
import type { Config } from '../../core/config/env.ts'
import { ensurePrivateDir } from '../stack/private-dir.ts'
import { ensurePostgres } from '../stack/system.ts'

/**
 * `veridis backup` / `restore` (docs/operations.md): one file holding the database (pg_dump,
 * custom format), the topics' partitions and settings with every consumer group's committed
 * offsets, the registry's subjects of the declared topics, and the local secrets. The file is
 * encrypted at rest (AES-256-GCM, key from a passphrase by scrypt, a fresh salt and IV per
 * file; the tag makes a wrong passphrase or a damaged file an error, never garbage), written
 * 0600. Nothing of its content, nor the passphrase, nor the database password, is printed.
 */
const MAGIC = Buffer.from('VERIDIS-BACKUP-1\n')
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const

export class BackupError extends Error {}

function keyFrom(passphrase: string, salt: Buffer): Buffer {
  if (passphrase.length < 16) throw new BackupError('the backup passphrase must be at least 16 characters')
  return scryptSync(passphrase, salt, 32, SCRYPT)
}

export function sealBackup(plain: Buffer, passphrase: string): Buffer {
  const salt = randomBytes(16)
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyFrom(passphrase, salt), iv)
  cipher.setAAD(MAGIC)
  const body = Buffer.concat([cipher.update(plain), cipher.final()])
  return Buffer.concat([MAGIC, salt, iv, cipher.getAuthTag(), body])
}

export function openBackup(sealed: Buffer, passphrase: string): Buffer {
  if (!sealed.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupError('not a veridis backup file')
  const at = MAGIC.length
  const salt = sealed.subarray(at, at + 16)
  const iv = sealed.subarray(at + 16, at + 28)
  const tag = sealed.subarray(at + 28, at + 44)
  const decipher = createDecipheriv('aes-256-gcm', keyFrom(passphrase, salt), iv)
  decipher.setAAD(MAGIC)
  decipher.setAuthTag(tag)
  try {
    return Buffer.concat([decipher.update(sealed.subarray(at + 44)), decipher.final()])
  } catch {
    throw new BackupError('the backup cannot be opened: wrong passphrase, or the file is damaged')
  }
}

interface TopicBackup {
  readonly name: string
  readonly partitions: number
  readonly configs: Record<string, string>
}
interface GroupBackup {
  readonly groupId: string
  readonly offsets: { topic: string; partition: number; offset: string }[]
}
interface SubjectBackup {
  readonly subject: string
  readonly versions: { version: number; schema: string; schemaType?: string }[]
}
interface BackupBundle {
  readonly format: 1
  readonly createdAt: string
  readonly namespace: string | null
  readonly topics: TopicBackup[]
  readonly groups: GroupBackup[]
  readonly subjects: SubjectBackup[]
  /** Base64: the pg_dump archive and each local secret file by name. */
  readonly database: string
  readonly secrets: Record<string, string>
}

export interface BackupSummary {
  readonly file: string
  readonly bytes: number
  readonly databaseBytes: number
  readonly topics: number
  readonly groups: number
  readonly subjects: number
  readonly secrets: number
}

const secretsDir = (config: Config) => path.join(config.home, 'secrets')

/** libpq's connection string without the password, which goes through PGPASSWORD instead. */
function libpqTarget(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const parsed = new URL(url)
  const password = decodeURIComponent(parsed.password)
  parsed.password = ''
  return { dbname: parsed.toString(), env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' } }
}

function runBinary(binary: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      [...args],
      { env, encoding: 'buffer', maxBuffer: 4 * 1024 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // stderr of pg_dump/pg_restore names objects, never the password (it is not in argv).
        if (error) reject(new BackupError(`${path.basename(binary)} failed: ${stderr.toString().trim()}`))
        else resolve(stdout)
      },
    )
  })
}

async function registryRequest(config: Config, route: string, init: RequestInit = {}): Promise<Response> {
  const registry = config.schemaRegistry
  const headers: Record<string, string> = { 'content-type': 'application/vnd.schemaregistry.v1+json' }
  if (registry.auth)
    headers.authorization = `Basic ${Buffer.from(`${registry.auth.username}:${registry.auth.password}`).toString('base64')}`
  return fetch(`${registry.url}${route}`, { ...init, headers, signal: AbortSignal.timeout(15_000) })
}

/** The namespace's consumer groups: `[<namespace>.]veridis.<name>`. */
const groupPrefix = (config: Config) => `${config.namespace ? `${config.namespace}.` : ''}veridis.`

export async function createBackup(
  config: Config,
  bus: Bus,
  options: { file: string; passphrase: string },
): Promise<BackupSummary> {
  // Fail on a short passphrase before doing any work.
  keyFrom(options.passphrase, Buffer.alloc(16))
  const binDir = await ensurePostgres(() => undefined)
  const target = libpqTarget(config.database.url)
  const database = await runBinary(
    path.join(binDir, 'pg_dump'),
    ['--format=custom', '--no-owner', '--no-acl', `--dbname=${target.dbname}`],
    target.env,
  )

  const admin = bus.kafka.admin()
  await admin.connect()
  let topics: TopicBackup[]
  let groups: GroupBackup[]
  try {
    const names = bus.allTopics.map((topic) => topic.name)
    const metadata = await admin.fetchTopicMetadata({ topics: names })
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({ type: 2, name })),
    })
    topics = metadata.topics.map((topic) => {
      const resource = described.resources.find((entry) => entry.resourceName === topic.name)
      const configs: Record<string, string> = {}
      for (const entry of resource?.configEntries ?? []) {
        // Only what was set for the topic, not the broker's defaults.
        if (!entry.isDefault && entry.configSource === 1 && entry.configValue !== null)
          configs[entry.configName] = entry.configValue
      }
      return { name: topic.name, partitions: topic.partitions.length, configs }
    })
    const listed = await admin.listGroups()
    groups = []
    for (const { groupId } of listed.groups.filter((group) =>
      group.groupId.startsWith(groupPrefix(config)),
    )) {
      const offsets = await admin.fetchOffsets({ groupId, topics: names })
      groups.push({
        groupId,
        offsets: offsets.flatMap((entry) =>
          entry.partitions
            .filter((partition) => partition.offset !== '-1')
            .map((partition) => ({
              topic: entry.topic,
              partition: partition.partition,
              offset: partition.offset,
            })),
        ),
      })
    }
  } finally {
    await admin.disconnect()
  }

  const subjects: SubjectBackup[] = []
  for (const topic of bus.allTopics) {
    for (const subject of [keySubject(topic.name), valueSubject(topic.name)]) {
      const listed = await registryRequest(config, `/subjects/${encodeURIComponent(subject)}/versions`)
      if (listed.status === 404) continue
      if (!listed.ok) throw new BackupError(`registry: listing ${subject} answered ${listed.status}`)
      const versions: SubjectBackup['versions'] = []
      for (const version of (await listed.json()) as number[]) {
        const response = await registryRequest(
          config,
          `/subjects/${encodeURIComponent(subject)}/versions/${version}`,
        )
        if (!response.ok)
          throw new BackupError(`registry: ${subject} version ${version} answered ${response.status}`)
        const body = (await response.json()) as { schema: string; schemaType?: string }
        versions.push({
          version,
          schema: body.schema,
          ...(body.schemaType ? { schemaType: body.schemaType } : {}),
        })
      }
      subjects.push({ subject, versions })
    }
  }

  const secrets: Record<string, string> = {}
  const dir = secretsDir(config)
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) secrets[name] = readFileSync(path.join(dir, name)).toString('base64')
  }

  const bundle: BackupBundle = {
    format: 1,
    createdAt: new Date().toISOString(),
    namespace: config.namespace ?? null,
    topics,
    groups,
    subjects,
    database: database.toString('base64'),
    secrets,
  }
  const sealed = sealBackup(gzipSync(Buffer.from(JSON.stringify(bundle))), options.passphrase)
  writeFileSync(options.file, sealed, { mode: 0o600 })
  return {
    file: options.file,
    bytes: sealed.length,
    databaseBytes: database.length,
    topics: topics.length,
    groups: groups.length,
    subjects: subjects.length,
    secrets: Object.keys(secrets).length,
  }
}

export function readBackup(file: string, passphrase: string): BackupBundle {
  const bundle = JSON.parse(gunzipSync(openBackup(readFileSync(file), passphrase)).toString()) as BackupBundle
  if (bundle.format !== 1) throw new BackupError(`backup format ${String(bundle.format)} is not known`)
  return bundle
}

export const RESTORE_PARTS = ['secrets', 'kafka', 'registry', 'database'] as const
export type RestorePart = (typeof RESTORE_PARTS)[number]

export interface RestoreSummary {
  readonly createdAt: string
  readonly secretsWritten: number
  readonly topicsCreated: number
  readonly subjectsRegistered: number
  readonly databaseRestored: boolean
}

/**
 * Puts a backup back: local secrets that are missing or differ, topics that are missing (with
 * their partitions and settings), registry subjects that are missing, and the database
 * (pg_restore --clean into the configured database, which must exist: `stack up` makes it).
 * Consumer offsets are not moved here: the replay after a restore is `rebuildAfterRestore`.
 */
export async function restoreBackup(
  config: Config,
  bus: Bus,
  options: { file: string; passphrase: string; parts?: readonly RestorePart[] },
): Promise<RestoreSummary> {
  const bundle = readBackup(options.file, options.passphrase)
  const parts = new Set(options.parts ?? RESTORE_PARTS)
  let secretsWritten = 0
  if (parts.has('secrets')) {
    const dir = ensurePrivateDir(secretsDir(config))
    for (const [name, content] of Object.entries(bundle.secrets)) {
      const file = path.join(dir, path.basename(name))
      const bytes = Buffer.from(content, 'base64')
      if (existsSync(file) && readFileSync(file).equals(bytes)) continue
      writeFileSync(file, bytes, { mode: 0o600 })
      secretsWritten++
    }
  }
  let topicsCreated = 0
  if (parts.has('kafka')) {
    const admin = bus.kafka.admin()
    await admin.connect()
    try {
      const existing = new Set(await admin.listTopics())
      const missing = bundle.topics.filter((topic) => !existing.has(topic.name))
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((topic) => ({
            topic: topic.name,
            numPartitions: topic.partitions,
            replicationFactor: config.topics.replication,
            configEntries: Object.entries(topic.configs).map(([name, value]) => ({ name, value })),
          })),
        })
      }
      topicsCreated = missing.length
    } finally {
      await admin.disconnect()
    }
  }
  let subjectsRegistered = 0
  if (parts.has('registry')) {
    for (const subject of bundle.subjects) {
      const present = await registryRequest(
        config,
        `/subjects/${encodeURIComponent(subject.subject)}/versions`,
      )
      if (present.ok) continue
      for (const version of subject.versions) {
        const response = await registryRequest(
          config,
          `/subjects/${encodeURIComponent(subject.subject)}/versions`,
          {
            method: 'POST',
            body: JSON.stringify({
              schema: version.schema,
              ...(version.schemaType ? { schemaType: version.schemaType } : {}),
            }),
          },
        )
        if (!response.ok)
          throw new BackupError(`registry: registering ${subject.subject} answered ${response.status}`)
      }
      subjectsRegistered++
    }
  }
  let databaseRestored = false
  if (parts.has('database')) {
    const binDir = await ensurePostgres(() => undefined)
    const target = libpqTarget(config.database.url)
    const archive = path.join(ensurePrivateDir(path.join(config.home, 'run')), `restore-${process.pid}.dump`)
    writeFileSync(archive, Buffer.from(bundle.database, 'base64'), { mode: 0o600 })
    try {
      await runBinary(
        path.join(binDir, 'pg_restore'),
        [
          '--clean',
          '--if-exists',
          '--no-owner',
          '--no-acl',
          '--single-transaction',
          `--dbname=${target.dbname}`,
          archive,
        ],
        target.env,
      )
    } finally {
      rmSync(archive, { force: true })
    }
    databaseRestored = true
  }
  return {
    createdAt: bundle.createdAt,
    secretsWritten,
    topicsCreated,
    subjectsRegistered,
    databaseRestored,
  }
}
