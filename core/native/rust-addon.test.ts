import path from 'node:path'
import { expect, test } from 'vitest'
import { PROJECT_ROOT } from '../paths.ts'
import { nativeCpuVariant, rustAddon } from './rust-addon.ts'

const flags = (list: string) => `processor\t: 0\nflags\t\t: fpu vme sse2 ${list} avx2\n\n`

test('the adx build is chosen only when the CPU has both bmi2 and adx', () => {
  expect(nativeCpuVariant(flags('bmi2 adx'))).toBe('adx')
  expect(nativeCpuVariant(flags('adx bmi1 bmi2'))).toBe('adx')
  expect(nativeCpuVariant(flags('bmi2'))).toBe('portable')
  expect(nativeCpuVariant(flags('adx'))).toBe('portable')
  // Whole flags only, as rust-addon.sh's `grep -w`.
  expect(nativeCpuVariant(flags('bmi2x adxy'))).toBe('portable')
  // No /proc/cpuinfo (not Linux): the portable build.
  expect(nativeCpuVariant('')).toBe('portable')
})

test("an addon's path names its crate's source hash and this machine's CPU variant", () => {
  const addon = rustAddon({
    name: 'evm-native',
    source: path.join(PROJECT_ROOT, 'producers', 'chains', 'evm', 'native'),
    library: 'veridis_evm_native',
  })
  expect(addon.path()).toMatch(
    new RegExp(`/evm-native-${addon.version()}-${nativeCpuVariant()}/veridis_evm_native\\.node$`),
  )
  expect(addon.version()).toMatch(/^[0-9a-f]{12}$/)
})
