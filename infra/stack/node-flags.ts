import path from 'node:path'
import { PROJECT_ROOT } from '../../core/paths.ts'

/**
 * The node flags every TypeScript process of the project runs with (pipeline processes, and
 * the benches' producer children started as they are): a larger young generation, because
 * the bus allocates many short-lived buffers per message and fewer scavenges measurably
 * raise throughput (bench/pipeline.ts), and the tsx loader. bin/veridis passes the same.
 */
export function tsNodeFlags(): string[] {
  return ['--max-semi-space-size=32', '--import', path.join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs')]
}
