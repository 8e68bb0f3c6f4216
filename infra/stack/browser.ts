import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import type { Progress } from './service.ts'
import { aptInstall } from './system.ts'

/**
 * A headless Chromium for browser tests of the dashboards. It is Debian's package, not a
 * Playwright download: those come from a CDN that not every machine can reach, while apt
 * is available wherever the stack itself installs. Only tests use this (playwright-core
 * is a devDependency).
 */
export const CHROMIUM_PATH = '/usr/bin/chromium'

export async function ensureChromium(progress: Progress) {
  if (!existsSync(CHROMIUM_PATH)) await aptInstall(['chromium'], progress)
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`chromium was installed but ${CHROMIUM_PATH} is missing`)
}

// Root needs --no-sandbox; the rest keeps Chromium from calling home (updates, sync, QUIC
// probes), so a test page is the only thing that touches the network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/**
 * Starts Chromium with a fresh profile. Playwright creates that profile itself (it passes
 * `--user-data-dir` in the temp directory and refuses one in `args`) and removes it in
 * `close()`, so every launch starts clean and leaves nothing behind. Use one
 * `browser.newContext()` per test for isolated cookies and storage.
 */
export async function launchChromium(options: { timeoutMs?: number } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing; call ensureChromium() first (or: apt-get install chromium)`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: options.timeoutMs ?? 60_000,
  })
}
