import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { configDefaults, defineConfig } from 'vitest/config'
import { StackLastSequencer } from './test/setup/sequencer.ts'

const TEST_FILES = [
  'test/**/*.test.ts',
  'consumers/**/*.test.ts',
  'producers/**/*.test.ts',
  'core/**/*.test.ts',
  'schemas/**/*.test.ts',
  'monitor/**/*.test.ts',
]

/**
 * Suites whose chain node is compiled from source the first time a machine needs it
 * (infra/stack/native/build.sh, cached under ~/.cache/veridis/native): the agave validator
 * takes 50 minutes to hours on two cores, longer than a test hook may wait and, with the
 * rest of the run, longer than CI's 90 minutes (stop 24 timed out building it inside the
 * run). Until the machine has built it, the suite is left out of the run — said on stderr,
 * never counted as passed — and runs from the first run after
 * `infra/stack/native/build.sh <node>` finishes.
 */
const NATIVE_NODE_SUITES = [
  { suite: 'test/solana/**', node: 'solana-test-validator', version: '3.1.12' },
  // `stack up` there starts every node the stack declares, the validator among them.
  { suite: 'test/stack/stack.test.ts', node: 'solana-test-validator', version: '3.1.12' },
  // The trace collector: ~25 minutes of Go build on two cores.
  { suite: 'test/tracing/**', node: 'jaeger', version: 'v1.76.0' },
]
const nativeCache = path.join(
  process.env.VERIDIS_CACHE ?? path.join(os.homedir(), '.cache', 'veridis'),
  'native',
)
const UNBUILT_SUITES = NATIVE_NODE_SUITES.filter(
  ({ node, version }) => !existsSync(path.join(nativeCache, `${node}-${version}`, 'bin', node)),
)
// The configuration is evaluated once per project and worker: say it once per run.
for (const { suite, node } of process.env.VERIDIS_UNBUILT_SAID ? [] : UNBUILT_SUITES) {
  process.env.VERIDIS_UNBUILT_SAID = '1'
  process.stderr.write(
    `vitest: NOT RUN ${suite}: ${node} is not built on this machine yet (infra/stack/native/build.sh ${node})\n`,
  )
}

/**
 * Files seen failing on this machine for a reason not fixed yet, left out of every run with
 * that reason on stderr — never counted as passed. Each is an open item of its issue
 * (issue 15), to be taken out of this list by the change that makes it pass — or, marked so,
 * left out for CI's time limit. VERIDIS_TEST_QUARANTINED=1 runs them all.
 */
const QUARANTINE: readonly { file: string; reason: string }[] = [
  {
    file: 'test/cluster/broker-loss.test.ts',
    // Passes (222–331 s in the rehearsals of 2026-12-03); run it with VERIDIS_TEST_QUARANTINED=1.
    reason:
      "CI's time limit only: the last CI took 85 of its 90 minutes with it, on a host losing 20–33 % of its CPU to steal; it passes",
  },
]
const QUARANTINED = process.env.VERIDIS_TEST_QUARANTINED ? [] : QUARANTINE
for (const { file, reason } of process.env.VERIDIS_QUARANTINE_SAID ? [] : QUARANTINED) {
  process.stderr.write(`vitest: NOT RUN ${file} (quarantined): ${reason}\n`)
}
process.env.VERIDIS_QUARANTINE_SAID = '1'

/**
 * The `unit` project: files that need no service — no Kafka, registry, PostgreSQL, chain,
 * or software the stack installs (Prometheus) — and take seconds, so the whole project
 * answers in well under a minute with nothing running (`npm run test:unit`). Listed by file
 * because a folder does not tell what its tests need; each was run with every service
 * address pointing at a closed port. A new file runs in `integration` until it is shown to
 * pass that way. The proving tests (test/zk/witness, prover, batch, semaphore-interop) need
 * no service either, but take minutes of CPU, so they run with the integration suite.
 */
const UNIT_TEST_FILES = [
  'core/native/rust-addon.test.ts',
  'consumers/audit/verify.test.ts',
  'consumers/bridge-guard/detections/anomaly.test.ts',
  'consumers/bridge-guard/detections/detections.test.ts',
  'consumers/bridge-guard/detections/flow-limits.test.ts',
  'consumers/bridge-guard/detections/liveness.test.ts',
  'consumers/bridge-guard/detections/reserves.test.ts',
  'consumers/bridge-guard/evidence.test.ts',
  'consumers/nullifiers/decide.test.ts',
  'consumers/nullifiers/propagate.test.ts',
  'consumers/nullifiers/writers/writers.test.ts',
  'core/bus/partitioner.test.ts',
  'core/bus/record-encoding.test.ts',
  'core/bus/schema-registry.test.ts',
  'core/bus/units.test.ts',
  'core/bus/well-formed.test.ts',
  'core/bus/wire-format.test.ts',
  'core/crypto/keccak.test.ts',
  'core/tracing/tracing.test.ts',
  'monitor/lag/lag.test.ts',
  'producers/chains/cosmos/normalise.test.ts',
  'producers/chains/evm/bridge/canonical-abi.test.ts',
  'producers/chains/evm/bridge/gateway-events.test.ts',
  'producers/chains/evm/bridge/release-signatures.test.ts',
  'producers/chains/evm/config.test.ts',
  'producers/chains/evm/normalise.test.ts',
  'producers/chains/evm/rpc/heads.test.ts',
  'producers/chains/polkadot/normalise.test.ts',
  'producers/chains/solana/config.test.ts',
  'producers/chains/solana/normalise.test.ts',
  'producers/chains/starknet/normalise.test.ts',
  'producers/gateway/command-status.test.ts',
  'producers/gateway/statement-batcher.test.ts',
  'test/architecture/layers.test.ts',
  'test/audit/hash-scheme.test.ts',
  'test/config/config.test.ts',
  'test/gateway/contract.test.ts',
  'test/ops/backup-seal.test.ts',
  'test/ops/instances.test.ts',
  'test/ops/k8s.test.ts',
  'test/stack/kafka-cluster-id.test.ts',
  'test/zk/manifest.test.ts',
]

export default defineConfig({
  test: {
    // One real stack on two cores: files run one after another, each in its own namespace.
    // Vitest sizes its worker pool from the root configuration only, so this holds for both.
    fileParallelism: false,
    sequence: { sequencer: StackLastSequencer },
    // A cap, not an expectation: the full suite shares two cores with five chain nodes, and a
    // 60-s cap failed an EVM listener test that passes alone in 20 s.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_TEST_FILES } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: TEST_FILES,
          exclude: [
            ...configDefaults.exclude,
            ...UNIT_TEST_FILES,
            ...UNBUILT_SUITES.map(({ suite }) => suite),
            ...QUARANTINED.map(({ file }) => file),
          ],
          // Only this project starts the stack: Vitest runs a project's global setup only
          // when some of its files are selected.
          globalSetup: ['test/setup/global.ts'],
        },
      },
    ],
  },
})
