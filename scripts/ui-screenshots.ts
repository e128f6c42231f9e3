/**
 * `npm run screenshots`: the demo's three communities (scripts/demo/), and while they run, a
 * picture of each view of the web page in Chromium, written to docs/ui/<view>.png for the README.
 *
 *   node dist/scripts/ui-screenshots.js
 */
import '../src/polyfill.js'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { launchChromium } from './chromium.js'
import { IMAGE } from './demo/flow.js'
import { runDemo } from './demo/index.js'
import type { CommunityName, RunningDemo } from './demo/index.js'

const OUT_DIR = fileURLToPath(new URL('../../docs/ui/', import.meta.url))
const VIEWPORT = { width: 1280, height: 860 }
/** Long enough for any view of the demo's few events to render. */
const READY_TIMEOUT_MS = 20_000

interface Shot {
  /** docs/ui/<file>.png */
  file: string
  /** whose node the page shows */
  community: CommunityName
  /** the view's hash path in this run of the demo */
  path: (demo: RunningDemo) => string
  /** shown once this is on the page */
  ready: string
}

const digestOf = (demo: RunningDemo, eventClass: string): string => {
  const event = demo.published.find(e => e.class === eventClass)
  if (event === undefined) throw new Error(`the demo published no ${eventClass}`)
  return event.digest
}

/** One picture per view; a new view adds a line. */
const SHOTS: readonly Shot[] = [
  { file: 'live', community: 'tekton', path: () => '/live', ready: 'tr.event' },
  { file: 'event', community: 'tekton', path: demo => `/event/${digestOf(demo, 'testsuiterun.finished')}`, ready: 'pre.cdevent' },
  { file: 'node', community: 'opnfv', path: () => '/node', ready: 'table.list' },
  // onap holds opnfv's finished test run but not its start: the chain shows that link unresolved
  { file: 'chain', community: 'onap', path: demo => `/chain/${demo.chainId}`, ready: '.trace-canvas[data-rendered]' },
  // tekton holds opnfv's test runs of onap's image: the quality stamp comes from another community
  { file: 'artifact', community: 'tekton', path: () => `/artifact/${encodeURIComponent(IMAGE.purl)}`, ready: '.artifact-confidence tbody tr' }
]

async function shoot (demo: RunningDemo): Promise<void> {
  await mkdir(OUT_DIR, { recursive: true })
  const browser = await launchChromium()
  try {
    for (const shot of SHOTS) {
      const community = demo.communities.find(c => c.name === shot.community)
      if (community === undefined) throw new Error(`no community ${shot.community}`)
      // a context per shot: each community's page has its own login
      const context = await browser.newContext({ viewport: VIEWPORT })
      const page: Page = await context.newPage()
      await page.goto(community.loginUrl)
      await page.goto(`${community.apiUrl}/ui/#${shot.path(demo)}`)
      await page.locator(shot.ready).first().waitFor({ timeout: READY_TIMEOUT_MS })
      await page.screenshot({ path: `${OUT_DIR}${shot.file}.png` })
      console.log(`wrote docs/ui/${shot.file}.png (${shot.community}: #${shot.path(demo)})`)
      await context.close()
    }
  } finally {
    await browser.close()
  }
}

await runDemo({ whileRunning: shoot })
