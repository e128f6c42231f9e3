import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

/**
 * The browser the web page's tests and screenshots drive: Debian's Chromium package (.ci/run
 * installs it), never a browser build playwright would download. CDGOSSIP_CHROMIUM names another.
 */
export const CHROMIUM_PATH = process.env.CDGOSSIP_CHROMIUM ?? '/usr/bin/chromium'

/** Headless; no sandbox, since CI runs as root, where Chromium's sandbox refuses to start. */
export async function launchChromium (): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] })
}
