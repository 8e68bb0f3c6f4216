import { readFileSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../../core/paths.ts'
import { LOCAL_ANVILS } from './anvil.ts'

/**
 * What `docker-compose.yml` must say about each service of the local stack (STACK_SERVICES),
 * derived from the files that pin the stack's own versions and settings, so the Compose file
 * and `bin/veridis up` cannot drift apart unnoticed (test/ops/compose.test.ts compares them,
 * through compose-go's normalised model of the file).
 *
 * `hostOnly` names the stack services Compose does not run, and why: a new stack service has
 * to be added to the Compose file or here, never silently to neither.
 */
export interface ComposeExpectation {
  readonly image: string
  /** Published ports, `127.0.0.1:<host>` to `<container>`, as the stack binds them on loopback. */
  readonly ports: readonly { readonly host: number; readonly container: number }[]
  /** The health check's test command (Compose `healthcheck.test`), the same probe the stack uses. */
  readonly healthcheck: readonly string[]
  /** Compose profile that gates it (chain nodes start only with `--profile chains`). */
  readonly profile?: string
}

function pomProperty(file: string, property: string): string {
  const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8')
  const match = new RegExp(`<${property.replaceAll('.', '\\.')}>([^<]+)</`).exec(text)
  if (!match?.[1]) throw new Error(`${file} pins no ${property}`)
  return match[1]
}

function npmVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>
  }
  const version = manifest.dependencies[name]
  if (!version) throw new Error(`package.json pins no ${name}`)
  return version
}

export const KAFKA_VERSION = () => pomProperty('infra/kafka/pom.xml', 'kafka.version')
export const APICURIO_VERSION = () => pomProperty('infra/registry/pom.xml', 'apicurio.version')

/**
 * The expectation per stack service. `postgresMajor` is the major version of the server the
 * stack runs (Debian's `postgresql`, found under /usr/lib/postgresql/<major>).
 */
export function composeExpectations(postgresMajor: string): Record<string, ComposeExpectation> {
  const anvilImage = `ghcr.io/foundry-rs/foundry:v${npmVersion('@foundry-rs/anvil-linux-amd64')}`
  return {
    postgres: {
      image: `postgres:${postgresMajor}`,
      ports: [{ host: 15432, container: 5432 }],
      healthcheck: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-U', 'postgres'],
    },
    kafka: {
      image: `apache/kafka:${KAFKA_VERSION()}`,
      ports: [{ host: 19092, container: 19092 }],
      healthcheck: [
        'CMD',
        '/opt/kafka/bin/kafka-broker-api-versions.sh',
        '--bootstrap-server',
        '127.0.0.1:19092',
      ],
    },
    registry: {
      image: `apicurio/apicurio-registry:${APICURIO_VERSION()}`,
      ports: [
        { host: 18081, container: 8080 },
        { host: 18082, container: 9000 },
      ],
      healthcheck: ['CMD', 'curl', '-fsS', 'http://127.0.0.1:9000/health/ready'],
    },
    ...Object.fromEntries(
      LOCAL_ANVILS.map((chain) => [
        chain.name,
        {
          image: anvilImage,
          ports: [{ host: chain.port, container: chain.port }],
          healthcheck: ['CMD', 'cast', 'chain-id', '--rpc-url', `http://127.0.0.1:${chain.port}`],
          profile: 'chains',
        },
      ]),
    ),
  }
}

/** Stack services that only `bin/veridis up` runs, with the reason Compose does not. */
export const HOST_ONLY_SERVICES: Record<string, string> = {
  'starknet-devnet':
    'built from crates.io by infra/stack/native/build.sh and prepared (Cairo contracts declared) by `up`',
  'starknet-l1':
    "the devnet's L1 settlement clock (infra/stack/starknet-l1-clock.ts), which needs the devnet above",
  chopsticks:
    "runs the project's own TypeScript wrapper (infra/stack/chopsticks-node.ts) over a raw chain spec",
  wasmd: 'built from the Go module proxy and initialised with a genesis and contracts that `up` writes',
  'solana-test-validator':
    'built from crates.io by infra/stack/native/build.sh, with a preload that keeps its faucet on loopback',
}
