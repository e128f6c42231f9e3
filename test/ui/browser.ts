/**
 * Browser tests of the web page: Debian's Chromium driven by playwright-core, headless. The
 * browser is not an npm download: .ci/run installs the `chromium` package when it is missing.
 * In CI (CI=true) a missing browser fails the tests; elsewhere they are skipped with a message.
 */
import { existsSync } from 'node:fs'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { CHROMIUM_PATH, launchChromium } from '../../scripts/chromium.js'
/** A view's content after a navigation or an event: the node answers locally, so seconds are plenty. */
export const UI_TIMEOUT_MS = 15_000

const inCi = process.env.CI === 'true' || process.env.CI === '1'
const missing = !existsSync(CHROMIUM_PATH)
if (missing && !inCi) console.warn(`browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CDGOSSIP_CHROMIUM); CI runs them`)

/** `describe` for browser tests: skipped locally without Chromium, run (and failing) in CI. */
export function describeBrowser (name: string, tests: () => void): void {
  if (!missing) describe(name, tests)
  else if (!inCi) describe.skip(name, tests)
  // one failed test in CI's count, with the reason, rather than a failed hook and skipped tests
  else describe(name, () => { it(`needs Chromium at ${CHROMIUM_PATH} (CI=true: .ci/run installs the chromium package)`, () => { expect.fail('no Chromium') }) })
}

/** One browser per test file, launched before its tests and closed after them. */
export function useBrowser (): () => Browser {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => { await browser?.close() })
  return () => {
    if (browser === undefined) throw new Error('useBrowser: the browser is not launched (call it inside describeBrowser)')
    return browser
  }
}

export interface UiPage {
  page: Page
  context: BrowserContext
  /** every request the page made to another origin than the node's (each one was aborted) */
  foreign: string[]
  /** uncaught errors in the page's scripts, and console errors */
  errors: string[]
}

/**
 * A fresh browser context (its own cookie jar) whose every request to another origin than
 * `baseUrl` is aborted and recorded: the page must work with nothing but the node. Closed when
 * the test ends.
 */
export async function openPage (browser: Browser, baseUrl: string): Promise<UiPage> {
  const context = await browser.newContext()
  onTestFinished(async () => { await context.close() })
  const origin = new URL(baseUrl).origin
  const foreign: string[] = []
  const errors: string[] = []
  await context.route('**/*', async route => {
    const url = route.request().url()
    if (new URL(url).origin === origin) await route.continue()
    else {
      foreign.push(url)
      await route.abort('blockedbyclient')
    }
  })
  const page = await context.newPage()
  page.on('pageerror', err => { errors.push(err.message) })
  page.on('console', message => { if (message.type() === 'error') errors.push(message.text()) })
  return { page, context, foreign, errors }
}

/** Log in by the token URL `cdgossip ui` prints, landing on `hash` (e.g. `#/live`). */
export async function login (ui: UiPage, baseUrl: string, token: string, hash = ''): Promise<void> {
  await ui.page.goto(`${baseUrl}/ui/?token=${encodeURIComponent(token)}`)
  if (hash !== '') await ui.page.goto(`${baseUrl}/ui/${hash}`)
  await ui.page.locator('header nav').waitFor({ timeout: UI_TIMEOUT_MS })
}
