import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { PROJECT_ROOT } from '../paths.ts'

/**
 * The project's Rust Node addons (napi crates, dependencies from crates.io), built by
 * infra/stack/native/rust-addon.sh into ~/.cache/veridis/native/<name>-<hash>-<cpu>/, where
 * <hash> covers the crate's sources: a checkout finds the build of its own sources, never a
 * stale one. Each is an accelerator with a portable fallback its caller chooses, so a process
 * starting never compiles: it loads what is built or says why it cannot.
 */
export const RUST_ADDON_BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'rust-addon.sh')

export type RustAddonLoad<Addon> =
  | { readonly addon: Addon; readonly path: string }
  | { readonly addon: undefined; readonly reason: string }

export interface RustAddon<Addon> {
  /** Hash of the crate's sources, as rust-addon.sh computes it. */
  version(): string
  /** Where this checkout's build lives on this machine, built or not. */
  path(): string
  /** Builds the addon if this machine has no build of these sources; returns its path. */
  build(): string
  /** The addon when this checkout's sources are built here; never builds. */
  load(): RustAddonLoad<Addon>
}

function cacheDir(): string {
  return path.join(process.env.VERIDIS_CACHE ?? path.join(os.homedir(), '.cache', 'veridis'), 'native')
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8')
  } catch {
    return ''
  }
}

/**
 * The build variant for this machine's CPU, as rust-addon.sh names it: `adx` when the CPU has
 * bmi2 and adx (compiled in with them: ark-ff's assembly multiplication), `portable` otherwise.
 */
export function nativeCpuVariant(cpuinfo = readCpuinfo()): 'adx' | 'portable' {
  const flags = new Set(cpuinfo.split(/\s+/))
  return flags.has('bmi2') && flags.has('adx') ? 'adx' : 'portable'
}

/** One addon: `name` as rust-addon.sh knows it, `library` the crate's cdylib name. */
export function rustAddon<Addon>(options: {
  readonly name: 'zk-native' | 'evm-native'
  readonly source: string
  readonly library: string
}): RustAddon<Addon> {
  const { name, source, library } = options
  /** The same hash as rust-addon.sh: `cat Cargo.toml Cargo.lock build.rs src/*.rs | sha256sum`. */
  const version = () => {
    const sources = readdirSync(path.join(source, 'src'))
      .filter((file) => file.endsWith('.rs'))
      .sort()
      .map((file) => path.join('src', file))
    const hash = createHash('sha256')
    for (const file of ['Cargo.toml', 'Cargo.lock', 'build.rs', ...sources]) {
      hash.update(readFileSync(path.join(source, file)))
    }
    return hash.digest('hex').slice(0, 12)
  }
  const addonPath = () =>
    path.join(cacheDir(), `${name}-${version()}-${nativeCpuVariant()}`, `${library}.node`)
  return {
    version,
    path: addonPath,
    build() {
      // Minutes the first time on two cores, then a lookup; progress goes to stderr.
      const out = execFileSync('bash', [RUST_ADDON_BUILD_SCRIPT, name], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 * 1024 * 1024,
      })
      const built = out.trim().split('\n').at(-1)
      if (!built) throw new Error(`rust-addon.sh ${name} printed no path`)
      return built
    },
    load() {
      const at = addonPath()
      if (!existsSync(at)) {
        return {
          addon: undefined,
          reason: `not built (infra/stack/native/rust-addon.sh ${name} builds ${at})`,
        }
      }
      try {
        return { addon: createRequire(import.meta.url)(at) as Addon, path: at }
      } catch (error) {
        return { addon: undefined, reason: `does not load: ${(error as Error).message.split('\n')[0]}` }
      }
    },
  }
}
