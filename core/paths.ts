import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The checkout's root, wherever the process was started from. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
