import { expect, test } from 'vitest'
import { zkNativeAddonPath, zkNativeCpuVariant } from './native.ts'

const flags = (list: string) => `processor\t: 0\nflags\t\t: fpu vme sse2 ${list} avx2\n\n`

test('the adx build is chosen only when the CPU has both bmi2 and adx', () => {
  expect(zkNativeCpuVariant(flags('bmi2 adx'))).toBe('adx')
  expect(zkNativeCpuVariant(flags('adx bmi1 bmi2'))).toBe('adx')
  expect(zkNativeCpuVariant(flags('bmi2'))).toBe('portable')
  expect(zkNativeCpuVariant(flags('adx'))).toBe('portable')
  // Whole flags only, as zk-native.sh's `grep -w`.
  expect(zkNativeCpuVariant(flags('bmi2x adxy'))).toBe('portable')
  // No /proc/cpuinfo (not Linux): the portable build.
  expect(zkNativeCpuVariant('')).toBe('portable')
})

test("the addon's path names this machine's CPU variant", () => {
  expect(zkNativeAddonPath()).toMatch(new RegExp(`/zk-native-[0-9a-f]{12}-${zkNativeCpuVariant()}/`))
})
