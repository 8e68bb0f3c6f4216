import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { ATTESTATION_DISCLOSURE, CIRCUITS_DIR, ERASURE, MANIFEST_PATH } from '../../circuits/catalog.ts'
import { ptauPower } from '../../circuits/ceremony.ts'
import {
  checkArtifacts,
  circuitSourceFiles,
  type Manifest,
  readManifest,
  sourceHash,
} from '../../circuits/manifest.ts'

/** The committed artifacts match the circuits, and the check notices when they stop matching. */
const scratch = mkdtempSync(path.join(tmpdir(), 'veridis-circuits-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('circuit artifact manifest', () => {
  test('the committed artifacts match the circuit sources', async () => {
    expect(await checkArtifacts()).toEqual([])
    const manifest = readManifest()!
    expect(manifest.ptau.power).toBeGreaterThanOrEqual(14)
    expect(manifest.circuits.erasure!.constraints).toBeLessThanOrEqual(2 ** manifest.ptau.power)
  })

  test('editing a circuit or one of its includes changes its source hash', () => {
    cpSync(path.join(CIRCUITS_DIR, 'src'), scratch, { recursive: true })
    const copy = { ...ERASURE, source: path.join(scratch, 'erasure.circom') }
    expect(circuitSourceFiles(copy.source).map((file) => path.basename(file))).toEqual([
      'erasure.circom',
      'merkle.circom',
    ])
    const before = sourceHash(copy)
    const merkle = path.join(scratch, 'merkle.circom')
    writeFileSync(merkle, `${readFileSync(merkle, 'utf8')}\n// a change\n`)
    expect(sourceHash(copy)).not.toBe(before)
    // The disclosure circuit shares the include; a file it does not include does not count.
    const disclosure = {
      ...ATTESTATION_DISCLOSURE,
      source: path.join(scratch, 'attestation_disclosure.circom'),
    }
    const disclosureBefore = sourceHash(disclosure)
    writeFileSync(path.join(scratch, 'erasure.circom'), '// unrelated\n')
    expect(sourceHash(disclosure)).toBe(disclosureBefore)
  })

  test('a changed circuit, a changed artifact and a missing entry each fail the check', async () => {
    const manifest = readManifest()!
    const stale: Manifest = {
      ...manifest,
      circuits: {
        ...manifest.circuits,
        erasure: { ...manifest.circuits.erasure!, sourceHash: '0'.repeat(64) },
        attestation_disclosure: {
          ...manifest.circuits.attestation_disclosure!,
          artifacts: {
            ...manifest.circuits.attestation_disclosure!.artifacts,
            zkey: { ...manifest.circuits.attestation_disclosure!.artifacts.zkey, sha256: 'f'.repeat(64) },
          },
        },
      },
    }
    expect(await checkArtifacts(stale)).toEqual([
      'attestation_disclosure: zkey artifact circuits/artifacts/attestation_disclosure.zkey does not match the manifest',
      'erasure: circuit source changed since its artifacts were set up; run bin/veridis circuits ceremony',
    ])
    const { erasure: _, ...rest } = manifest.circuits
    expect(await checkArtifacts({ ...manifest, circuits: rest })).toEqual([
      'erasure: not in the manifest; run bin/veridis circuits ceremony',
    ])
    expect(await checkArtifacts(null)).toEqual([
      'circuits/artifacts/manifest.json is missing; run bin/veridis circuits ceremony',
    ])
  })

  test('a ptau given by path must be one: its power is read from its header', async () => {
    await expect(ptauPower(MANIFEST_PATH)).rejects.toThrow('is not a ptau file')
  })
})
