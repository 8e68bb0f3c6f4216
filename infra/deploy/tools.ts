import { execFileSync, spawnSync } from 'node:child_process'
import path from 'node:path'
import { PROJECT_ROOT } from '../../core/paths.ts'

/**
 * The manifest validators `npm test` runs, built once per machine from the Go module proxy by
 * infra/stack/native/build.sh (cached under ~/.cache/veridis/native; about 20 s the first time).
 */
const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'build.sh')

export type NativeTool = 'compose-check' | 'kubeconform'

export function nativeTool(name: NativeTool): string {
  const out = execFileSync('bash', [BUILD_SCRIPT, name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  })
  const binary = out.trim().split('\n').at(-1)
  if (!binary) throw new Error(`build.sh ${name} printed no path`)
  return binary
}

export interface ToolResult {
  readonly ok: boolean
  readonly stdout: string
  readonly stderr: string
}

export function runTool(command: string, args: readonly string[], input?: string): ToolResult {
  const result = spawnSync(command, [...args], {
    encoding: 'utf8',
    input,
    cwd: PROJECT_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) throw result.error
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr }
}

/** A Compose project as compose-go normalises it (the subset the checks read). */
export interface ComposeProject {
  readonly name: string
  readonly services: Record<
    string,
    {
      readonly image?: string
      readonly profiles?: readonly string[]
      readonly environment?: Record<string, string | null>
      readonly ports?: readonly {
        readonly host_ip?: string
        readonly published?: string
        readonly target: number
      }[]
      readonly healthcheck?: { readonly test?: readonly string[] }
    }
  >
}

/**
 * Loads Compose files with compose-go (schema, interpolation, normalisation, consistency: what
 * `docker compose config` does). Throws with the loader's message when it refuses them.
 */
export function loadComposeProject(files: readonly string[]): ComposeProject {
  const result = runTool(nativeTool('compose-check'), files)
  if (!result.ok) throw new Error(result.stderr.trim() || 'compose-check failed')
  return JSON.parse(result.stdout) as ComposeProject
}
