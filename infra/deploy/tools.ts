import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../../core/paths.ts'

/**
 * The manifest validators `npm test` runs, built once per machine from the Go module proxy by
 * infra/stack/native/build.sh (cached under ~/.cache/veridis/native; about 20 s the first time).
 */
const BUILD_SCRIPT = path.join(PROJECT_ROOT, 'infra', 'stack', 'native', 'build.sh')

export type NativeTool = 'compose-check' | 'kubeconform' | 'k8s-openapi'

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

/** The Kubernetes version whose API server schema the manifests are checked against. */
export const KUBERNETES_VERSION = '1.32.4'

type Schema = Record<string, unknown>

/**
 * Makes a definition strict the way kubeconform's own schemas are (openapi2jsonschema
 * --strict): an object that lists its properties admits no others, so a misspelt field is an
 * error; int-or-string and quantities accept both forms, as the API server does.
 */
function strictify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictify)
  if (node === null || typeof node !== 'object') return node
  const schema = Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, strictify(value)]),
  ) as Schema
  if (schema.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] }
  if (schema.properties && schema.additionalProperties === undefined) schema.additionalProperties = false
  return schema
}

/**
 * kubeconform schemas from the API server's OpenAPI document (build.sh k8s-openapi), written
 * once per version under the cache: one standalone file per kind (the definitions it reaches,
 * made strict), named the way kubeconform looks them up (`deployment-apps-v1.json`).
 */
export function kubernetesSchemas(): string {
  const swaggerFile = nativeTool('k8s-openapi')
  const dir = path.join(path.dirname(swaggerFile), `schemas-v${KUBERNETES_VERSION}-strict`)
  if (existsSync(path.join(dir, '.complete'))) return dir
  const swagger = JSON.parse(readFileSync(swaggerFile, 'utf8')) as {
    definitions: Record<string, Schema & { 'x-kubernetes-group-version-kind'?: GroupVersionKind[] }>
  }
  mkdirSync(dir, { recursive: true })
  const definitions = Object.fromEntries(
    Object.entries(swagger.definitions).map(([name, definition]) => [name, strictify(definition)]),
  )
  definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = {
    oneOf: [{ type: 'string' }, { type: 'number' }],
  }
  for (const [name, definition] of Object.entries(swagger.definitions)) {
    for (const gvk of definition['x-kubernetes-group-version-kind'] ?? []) {
      const suffix = gvk.group === '' ? `-${gvk.version}` : `-${gvk.group.split('.')[0]}-${gvk.version}`
      const apiVersion = gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`
      // Standalone: the kind's own definitions only, so kubeconform compiles little per kind.
      const kindSchema = {
        allOf: [
          { $ref: `#/definitions/${name}` },
          {
            properties: { apiVersion: { enum: [apiVersion] }, kind: { enum: [gvk.kind] } },
            required: ['apiVersion', 'kind'],
          },
        ],
        definitions: reachable(name, definitions),
      }
      writeFileSync(path.join(dir, `${gvk.kind.toLowerCase()}${suffix}.json`), JSON.stringify(kindSchema))
    }
  }
  writeFileSync(path.join(dir, '.complete'), '')
  return dir
}

/** The definitions `root` refers to, directly or through others, itself included. */
function reachable(root: string, definitions: Record<string, unknown>): Record<string, unknown> {
  const found: Record<string, unknown> = {}
  const pending = [root]
  while (pending.length > 0) {
    const name = pending.pop() as string
    if (name in found) continue
    found[name] = definitions[name]
    for (const match of JSON.stringify(definitions[name]).matchAll(/"#\/definitions\/([^"]+)"/g)) {
      if (match[1] && !(match[1] in found)) pending.push(match[1])
    }
  }
  return found
}

interface GroupVersionKind {
  readonly group: string
  readonly version: string
  readonly kind: string
}

/** `kubectl kustomize <dir>` (the kustomize built into kubectl): the rendered YAML, or throws. */
export function kustomizeBuild(dir: string): string {
  const result = runTool('kubectl', ['kustomize', dir])
  if (!result.ok) throw new Error(result.stderr.trim() || `kubectl kustomize ${dir} failed`)
  return result.stdout
}

/**
 * kubeconform, strict, offline, against the schemas above. Kinds without a schema here
 * (custom resources) are refused unless named in `skipKinds`. Returns kubeconform's JSON summary.
 */
export function kubeconform(yaml: string, skipKinds: readonly string[] = []): ToolResult {
  const args = [
    '-strict',
    '-summary',
    '-output',
    'json',
    '-kubernetes-version',
    KUBERNETES_VERSION,
    '-schema-location',
    `${kubernetesSchemas()}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
  ]
  if (skipKinds.length > 0) args.push('-skip', skipKinds.join(','))
  return runTool(nativeTool('kubeconform'), [...args, '-'], yaml)
}
