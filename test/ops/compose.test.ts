import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { databaseLocalDefaults } from '../../core/config/database.ts'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { loadComposeProject } from '../../infra/deploy/tools.ts'
import { composeExpectations, HOST_ONLY_SERVICES } from '../../infra/stack/compose-mirror.ts'
import { clusterReplication } from '../../infra/stack/kafka.ts'
import { STACK_SERVICES } from '../../infra/stack/stack.ts'

/**
 * docker-compose.yml, checked by compose-go (the Compose Specification's reference loader,
 * the one `docker compose` uses; no Docker engine here) and compared with the local stack, so
 * the two cannot drift: same services, images at the stack's pinned versions, loopback ports,
 * health probes, and the same broker, registry and database settings.
 */
const COMPOSE_FILE = path.join(PROJECT_ROOT, 'docker-compose.yml')
const project = loadComposeProject([COMPOSE_FILE])
const scratch = mkdtempSync(path.join(os.tmpdir(), 'veridis-compose-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

/** The stack's PostgreSQL major version: Debian's server under /usr/lib/postgresql/<major>. */
function postgresMajor(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))
  if (!versions[0]) throw new Error('no PostgreSQL server installed')
  return versions[0]
}

/** `key=value` lines of a properties file (comments and blanks left out). */
function properties(file: string): Map<string, string> {
  const entries = readFileSync(path.join(PROJECT_ROOT, file), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=')
      return [line.slice(0, at), line.slice(at + 1)] as const
    })
  return new Map(entries)
}

/** How the images name a setting as an environment variable (Kafka's image and Quarkus alike). */
const envName = (key: string) => key.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()

function environment(service: string): Record<string, string> {
  const env = project.services[service]?.environment ?? {}
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value ?? '']))
}

describe('docker-compose.yml', () => {
  test('behavior: compose-go loads it (schema, interpolation, consistency)', () => {
    expect(project.name).toBe('veridis')
    expect(Object.keys(project.services).length).toBeGreaterThan(0)
  })

  test('behavior: every stack service is in Compose or named host-only, and Compose has no other', () => {
    const stack = STACK_SERVICES.map((service) => service.name).sort()
    const composed = Object.keys(project.services)
    const hostOnly = Object.keys(HOST_ONLY_SERVICES)
    expect(composed.filter((name) => hostOnly.includes(name))).toEqual([])
    expect([...composed, ...hostOnly].sort()).toEqual(stack)
  })

  test('behavior: images, loopback ports, profiles and health checks are the stack’s', () => {
    const expected = composeExpectations(postgresMajor())
    expect(Object.keys(expected).sort()).toEqual(Object.keys(project.services).sort())
    for (const [name, expectation] of Object.entries(expected)) {
      const service = project.services[name]
      expect(service?.image, name).toBe(expectation.image)
      expect(
        (service?.ports ?? []).map((port) => ({
          hostIp: port.host_ip,
          host: Number(port.published),
          container: port.target,
        })),
        name,
      ).toEqual(expectation.ports.map((port) => ({ hostIp: '127.0.0.1', ...port })))
      expect(service?.healthcheck?.test, name).toEqual(expectation.healthcheck)
      expect(service?.profiles ?? [], name).toEqual(expectation.profile ? [expectation.profile] : [])
    }
  })

  test('behavior: Kafka has every setting of the stack’s server.properties, with its value', () => {
    // Compose runs one broker: the template's replication placeholders as a single node fills them.
    const { replication, minInsyncReplicas } = clusterReplication(1)
    const props = new Map(
      [...properties('infra/kafka/server.properties.template')].map(([key, value]) => [
        key,
        value
          .replace(/\$\{REPLICATION\}/, String(replication))
          .replace(/\$\{MIN_INSYNC_REPLICAS\}/, String(minInsyncReplicas)),
      ]),
    )
    // Addresses and the data directory differ by nature between a container and the host.
    const networking = new Set([
      'node.id',
      'controller.quorum.voters',
      'listeners',
      'advertised.listeners',
      'log.dirs',
    ])
    const env = environment('kafka')
    const settings = [...props].filter(([key]) => !networking.has(key))
    expect(settings.length).toBeGreaterThan(15)
    for (const [key, value] of settings) expect(env[`KAFKA_${envName(key)}`], key).toBe(value)
    const mirrored = new Set([...props.keys()].map((key) => `KAFKA_${envName(key)}`))
    expect(Object.keys(env).filter((name) => !mirrored.has(name))).toEqual([])
  })

  test('behavior: the registry has every apicurio setting of the stack, values where not host-specific', () => {
    const props = properties('infra/registry/application.properties.template')
    const env = environment('registry')
    const apicurio = [...props].filter(([key]) => key.startsWith('apicurio.'))
    expect(apicurio.length).toBeGreaterThan(5)
    for (const [key, value] of apicurio) {
      const name = envName(key)
      expect(env, key).toHaveProperty(name)
      // A ${VAR:default} value is the host's address or credentials: present, value its own.
      if (!value.includes('${')) expect(env[name], key).toBe(value)
    }
    expect(env.QUARKUS_OTEL_SDK_DISABLED).toBe(props.get('quarkus.otel.sdk.disabled'))
  })

  test('behavior: PostgreSQL has the application role and database of the local default URL', () => {
    const url = new URL(databaseLocalDefaults.VERIDIS_DATABASE_URL)
    const env = environment('postgres')
    expect(env.POSTGRES_USER).toBe(url.username)
    expect(env.POSTGRES_PASSWORD).toBe(url.password)
    expect(env.POSTGRES_DB).toBe(url.pathname.slice(1))
  })

  test.each([
    [
      'a dependency on an undefined service',
      (text: string) => text.replace('postgres: { condition', 'pg: { condition'),
    ],
    ['a misspelt key', (text: string) => text.replace('    healthcheck:\n', '    helthcheck:\n')],
    [
      'a port that is no number',
      (text: string) => text.replace('127.0.0.1:19092:19092', '127.0.0.1:19092:kafka'),
    ],
    ['an undefined volume', (text: string) => text.replace('kafka-data:/var', 'kafka-dat:/var')],
  ])('error: refuses the file with %s', (_what, breakIt) => {
    const original = readFileSync(COMPOSE_FILE, 'utf8')
    const broken = breakIt(original)
    expect(broken).not.toBe(original)
    const file = path.join(scratch, 'docker-compose.yml')
    writeFileSync(file, broken)
    expect(() => loadComposeProject([file])).toThrow(/compose-check:/)
  })
})
