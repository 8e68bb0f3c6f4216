import { randomUUID } from 'node:crypto'
import { type BaseContract, ContractFactory, JsonRpcProvider, NonceManager } from 'ethers'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { circuitSpecs } from '../../circuits/catalog.ts'
import { terminateCurves } from '../../circuits/curve.ts'
import { type CircuitInputs, loadHashers } from '../../circuits/inputs.ts'
import { proverConsumer } from '../../consumers/prover/index.ts'
import { createProver } from '../../consumers/prover/prover.ts'
import { solidityVerifierArgs } from '../../consumers/verifier/solidity.ts'
import { DEV_ACCOUNT, devWallet } from '../../contracts/evm/accounts.ts'
import { loadArtifact } from '../../contracts/evm/build.ts'
import { jsonRpcRequest } from '../../contracts/evm/provider.ts'
import type { BusProducer } from '../../core/bus/producer.ts'
import { loadProverPublicKey } from '../../core/crypto/prover-key.ts'
import { sealProveInputs } from '../../core/crypto/prover-seal.ts'
import { runConsumerProcess } from '../../core/service/consumer-process.ts'
import type { Command } from '../../schemas/generated/veridis.command.v1.ts'
import type { ProofResult } from '../../schemas/generated/veridis.proof.v1.ts'
import { collectTopic, eventually, openTestBus, type TestBus, testProducer } from '../support/harness.ts'
import { disclosureCase, erasureCase, requireZkNative, semaphoreCase } from './fixtures.ts'

/**
 * The snarkjs-exported Solidity verifiers, deployed on the local anvil chain (eip155:31337)
 * from dev account 9 (reserved for this work), accept proofs made by the prover consumer
 * and refuse tampered ones.
 */
const RPC_URL = 'http://127.0.0.1:18545'
const specs = circuitSpecs(20)
let testBus: TestBus
let producer: BusProducer
let provider: JsonRpcProvider
const stops: (() => Promise<void>)[] = []
const results: ProofResult[] = []

type VerifierContract = BaseContract & {
  verifyProof(...args: ReturnType<typeof solidityVerifierArgs>): Promise<boolean>
}

beforeAll(async () => {
  provider = new JsonRpcProvider(jsonRpcRequest(RPC_URL), 31337, { staticNetwork: true })
  await provider.getBlockNumber().catch((cause: unknown) => {
    throw new Error(`anvil is not reachable at ${RPC_URL}; start it with bin/veridis stack up`, { cause })
  })
  testBus = await openTestBus()
  producer = await testProducer(testBus)
  const running = await runConsumerProcess(testBus.common, proverConsumer as never, { opsPort: 0 })
  stops.push(() => running.runner.stop())
  stops.push(
    await collectTopic<ProofResult>(testBus, producer, {
      topic: testBus.bus.topics.proof.name,
      name: 'zk-onchain-reader',
      onMessage: (message) => results.push(message.value),
    }),
  )
})

afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
  await producer?.disconnect()
  await testBus?.close()
  provider?.destroy()
  await terminateCurves()
})

async function proveOverBus(circuit: ProofResult['circuit'], inputs: CircuitInputs): Promise<ProofResult> {
  const id = randomUUID()
  const value: Command = {
    commandId: id,
    idempotencyKey: id,
    issuedAt: Date.now(),
    actor: { kind: 'SERVICE', id: 'zk-onchain-test' },
    payload: {
      // Sealed to the prover's key, as the gateway writes them (core/crypto/prover-seal.ts).
      'io.veridis.command.ProveCommand': {
        circuit,
        inputs: sealProveInputs(loadProverPublicKey(testBus.common.config), id, inputs),
      },
    },
  }
  await producer.publish(testBus.bus.topics.command.name, [{ key: id, value, eventId: id }])
  const result = await eventually(async () => results.find((candidate) => candidate.commandId === id), 90_000)
  if (result.status !== 'GENERATED') throw new Error(`prove command rejected: ${result.reason}`)
  return result
}

/** Deploys each circuit's verifier and checks the proof is accepted, and refused when tampered. */
async function checkOnChain(
  proofs: readonly {
    circuit: ProofResult['circuit']
    proof: ProofResult['proof']
    publicSignals: string[]
  }[],
) {
  const signer = new NonceManager(devWallet(DEV_ACCOUNT.zk, provider))
  for (const proved of proofs) {
    const { circuit } = proved
    const artifact = loadArtifact(specs[circuit].solidityContract)
    const factory = new ContractFactory(artifact.abi as never, artifact.bytecode, signer)
    const contract = (await (await factory.deploy()).waitForDeployment()) as unknown as VerifierContract
    const args = solidityVerifierArgs(proved.proof!, proved.publicSignals)
    expect(await contract.verifyProof(...args), `${circuit} genuine`).toBe(true)

    const [pA, pB, pC, signals] = args
    const bumped = signals.map((signal, position) => (position === 0 ? signal + 1n : signal))
    expect(await contract.verifyProof(pA, pB, pC, bumped), `${circuit} tampered signal`).toBe(false)
    const swapped = [pC, pB, pA, signals] as unknown as typeof args
    expect(await contract.verifyProof(...swapped), `${circuit} swapped points`).toBe(false)
  }
}

async function onChainCases() {
  const hashers = await loadHashers()
  return [
    { circuit: 'ERASURE' as const, inputs: erasureCase(hashers, 'onchain').inputs },
    { circuit: 'ATTESTATION_DISCLOSURE' as const, inputs: disclosureCase(hashers, 'onchain').inputs },
    { circuit: 'IDENTITY_MEMBERSHIP' as const, inputs: semaphoreCase(1, 5n, 6n).inputs },
  ]
}

describe('on-chain Groth16 verifiers', () => {
  test('behavior: proofs from the prover consumer are accepted on-chain; tampered ones are refused', async () => {
    const cases = await onChainCases()
    const proofs = await Promise.all(cases.map(({ circuit, inputs }) => proveOverBus(circuit, inputs)))
    await checkOnChain(proofs)
  })

  test.each(['snarkjs', 'native'] as const)(
    'behavior: proofs from the %s prover are accepted on-chain for all three circuits; tampered ones are refused',
    async (kind) => {
      const backend = kind === 'native' ? { kind, addon: requireZkNative() } : { kind }
      const prover = createProver({ specs, concurrency: 2, cacheSize: 0, backend })
      const proofs = await Promise.all(
        (await onChainCases()).map(async ({ circuit, inputs }) => {
          const outcome = await prover.prove(circuit, inputs)
          if (outcome.status !== 'GENERATED') throw new Error(`${circuit}: ${outcome.reason}`)
          return { circuit, proof: outcome.proof, publicSignals: outcome.publicSignals }
        }),
      )
      await checkOnChain(proofs)
    },
  )
})
