/**
 * The Chain/Trace and Artifact views in headless Chromium, against the demo's three communities
 * while they run: the page draws what the REST API answers, every event and edge of it, left to
 * right, with the links a node cannot follow shown unresolved; the artifact page shows what
 * another community's tests said; and the page asks nothing of any host but the node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ArtifactView, TraceGraph } from '../../src/contracts/trace.js'
import { IMAGE } from '../../scripts/demo/flow.js'
import { runDemo } from '../../scripts/demo/index.js'
import type { CommunityName, DemoResult, RunningDemo } from '../../scripts/demo/index.js'
import type { RenderedGraph } from '../../src/ui/app/views/trace-model.js'
import { UI_TIMEOUT_MS, describeBrowser, openPage, useBrowser } from './browser.js'
import type { UiPage } from './browser.js'
import type { Browser } from 'playwright-core'

let demo: RunningDemo

/** The demo's communities, running from before the first test of the file to after the last (the demo then stops them and removes its dir). */
function useDemo (): void {
  let release: () => void = () => {}
  let finished: Promise<DemoResult> | undefined
  beforeAll(async () => {
    demo = await new Promise<RunningDemo>((resolve, reject) => {
      finished = runDemo({ whileRunning: async running => { resolve(running); await new Promise<void>(r => { release = r }) } })
      finished.catch(reject)
    })
  })
  afterAll(async () => {
    release()
    await finished
  })
}

function community (name: CommunityName): RunningDemo['communities'][number] {
  const c = demo.communities.find(n => n.name === name)
  if (c === undefined) throw new Error(`no ${name} in the demo`)
  return c
}

async function rest<T> (name: CommunityName, path: string): Promise<T> {
  return (await community(name).api.request<T>('GET', path)).body
}

/** A logged-in page of `name`'s node, showing `path` (`/chain/…`). */
async function openView (browser: () => Browser, name: CommunityName, path: string): Promise<UiPage> {
  const c = community(name)
  const ui = await openPage(browser(), c.apiUrl)
  await ui.page.goto(c.loginUrl)
  await ui.page.goto(`${c.apiUrl}/ui/#${path}`)
  return ui
}

async function drawnGraph (ui: UiPage): Promise<RenderedGraph> {
  await ui.page.waitForSelector('.trace-canvas[data-rendered]', { timeout: UI_TIMEOUT_MS })
  return await ui.page.evaluate('window.__cdgossipGraph') as RenderedGraph
}

const edgeKey = (e: { from: string, to: string }): string => `${e.from} -> ${e.to}`

describeBrowser('the Chain/Trace and Artifact views in a browser, on the running demo', () => {
  useDemo()
  const browser = useBrowser()

  describe('the Chain view', () => {
    it('draws every event and edge of the demo chain that the REST API answers, upstream on the left', async () => {
      const ui = await openView(browser, 'onap', `/chain/${demo.chainId}`)
      const drawn = await drawnGraph(ui)
      const answer = await rest<TraceGraph>('onap', `/v1/chains/${demo.chainId}`)

      expect(drawn.nodes.map(n => n.id).sort()).toEqual(answer.nodes.map(n => n.id).sort())
      expect(drawn.edges.map(edgeKey).sort()).toEqual(answer.edges.map(edgeKey).sort())
      // onap holds its own three events and the two it subscribed to: all of them are on the canvas
      const held = [...demo.published.filter(e => e.community === 'onap'), ...demo.received.filter(r => r.community === 'onap')].map(e => e.digest)
      expect(held).toHaveLength(5)
      expect(drawn.nodes.filter(n => n.resolved).map(n => n.id).sort()).toEqual([...held].sort())
      const x = new Map(drawn.nodes.map(n => [n.id, n.x]))
      for (const e of drawn.edges) expect(x.get(e.from), edgeKey(e)).toBeLessThan(x.get(e.to) as number)

      // the table below the canvas lists the same events and edges
      const rows = await ui.page.$$eval('table.trace-nodes tbody tr', trs => trs.map(tr => tr.getAttribute('data-node-id')))
      expect(rows.sort()).toEqual(answer.nodes.map(n => n.id).sort())
      expect(await ui.page.$$eval('table.trace-edges tbody tr', trs => trs.length)).toBe(answer.edges.length)
      // the artifact's row leads to its Artifact view
      expect(await ui.page.getAttribute(`table.trace-nodes a[href="#/artifact/${encodeURIComponent(IMAGE.purl)}"]`, 'href')).not.toBeNull()
      expect(ui.foreign).toEqual([])
      expect(ui.errors).toEqual([])
    })

    it('shows the link to an event onap does not hold (opnfv\'s testsuiterun.started) as unresolved, naming it', async () => {
      const ui = await openView(browser, 'onap', `/chain/${demo.chainId}`)
      const drawn = await drawnGraph(ui)
      const started = demo.published.find(e => e.class === 'testsuiterun.started')
      const unresolved = drawn.nodes.filter(n => !n.resolved)
      expect(unresolved).toHaveLength(1)
      const row = ui.page.locator(`table.trace-nodes tr[data-resolved="false"]`)
      expect(await row.textContent()).toContain(`event ${started?.contextId as string}`)

      // a click on it says what it names and stays on the page
      const node = unresolved[0] as RenderedGraph['nodes'][number]
      await ui.page.mouse.click(node.clientX, node.clientY)
      await ui.page.waitForSelector('.trace-selection:has-text("Not held by this node")', { timeout: UI_TIMEOUT_MS })
      expect(await ui.page.textContent('.trace-selection')).toContain(started?.contextId as string)
      expect(ui.foreign).toEqual([])
      expect(ui.errors).toEqual([])
    })

    it('opens the Event view when a held event is clicked', async () => {
      const ui = await openView(browser, 'onap', `/chain/${demo.chainId}`)
      const drawn = await drawnGraph(ui)
      const finishedRun = demo.received.find(r => r.community === 'onap' && r.class === 'testsuiterun.finished')
      const node = drawn.nodes.find(n => n.id === finishedRun?.digest) as RenderedGraph['nodes'][number]
      await ui.page.mouse.click(node.clientX, node.clientY)
      await ui.page.waitForURL(`**/ui/#/event/${node.id}`, { timeout: UI_TIMEOUT_MS })
      await ui.page.locator('main h1:has-text("Event")').waitFor({ timeout: UI_TIMEOUT_MS })
      expect(ui.foreign).toEqual([])
      expect(ui.errors).toEqual([])
    })
  })

  describe('the Trace view', () => {
    it('draws the neighbourhood the link asks for (direction, depth), and its controls change it', async () => {
      const artifact = demo.published.find(e => e.class === 'artifact.published')?.digest as string
      const ui = await openView(browser, 'onap', `/trace/${artifact}?direction=up&depth=1`)
      const up = await drawnGraph(ui)
      const upAnswer = await rest<TraceGraph>('onap', `/v1/events/${artifact}/trace?direction=up&depth=1`)
      expect(up.nodes.map(n => n.id).sort()).toEqual(upAnswer.nodes.map(n => n.id).sort())
      expect(up.edges.map(edgeKey).sort()).toEqual(upAnswer.edges.map(edgeKey).sort())
      expect(await ui.page.inputValue('select[name=direction]')).toBe('up')
      expect(await ui.page.inputValue('input[name=depth]')).toBe('1')

      await ui.page.selectOption('select[name=direction]', 'down')
      await ui.page.waitForURL(`**/ui/#/trace/${artifact}?direction=down&depth=1`, { timeout: UI_TIMEOUT_MS })
      const downAnswer = await rest<TraceGraph>('onap', `/v1/events/${artifact}/trace?direction=down&depth=1`)
      await ui.page.waitForFunction(ids => {
        const drawn = (globalThis as { __cdgossipGraph?: RenderedGraph }).__cdgossipGraph
        return drawn !== undefined && JSON.stringify(drawn.nodes.map(n => n.id).sort()) === JSON.stringify(ids)
      }, downAnswer.nodes.map(n => n.id).sort(), { timeout: UI_TIMEOUT_MS })
      expect(downAnswer.nodes.map(n => n.id)).not.toEqual(upAnswer.nodes.map(n => n.id))

      // Enter in the depth field shows that depth, and stays on the page
      await ui.page.fill('input[name=depth]', '2')
      await ui.page.press('input[name=depth]', 'Enter')
      await ui.page.waitForURL(`**/ui/#/trace/${artifact}?direction=down&depth=2`, { timeout: UI_TIMEOUT_MS })
      expect(ui.page.url()).not.toContain('/ui/?')
      expect(ui.foreign).toEqual([])
      expect(ui.errors).toEqual([])
    })

    it('asks the node to resolve from peers when the box is ticked', async () => {
      const ui = await openView(browser, 'onap', `/chain/${demo.chainId}`)
      await drawnGraph(ui)
      const asked = ui.page.waitForRequest(r => r.url().endsWith(`/v1/chains/${demo.chainId}?resolve=true`), { timeout: UI_TIMEOUT_MS })
      await ui.page.check('input[name=resolve]')
      await asked
      await ui.page.waitForURL(`**/ui/#/chain/${demo.chainId}?resolve=true`, { timeout: UI_TIMEOUT_MS })
      expect(await ui.page.isChecked('input[name=resolve]')).toBe(true)
      // what the resolution did is said above the graph, and what it fetched is marked in the table
      const said = await ui.page.locator('.trace-resolution').textContent({ timeout: UI_TIMEOUT_MS })
      // onap's one unresolved link, opnfv's testsuiterun.started, is fetched from a peer: held now, marked
      expect(said).toBe('Resolved from peers: 1 event fetched from 1 peer in 1 round.')
      expect(await ui.page.locator('table.trace-nodes tr[data-fetched="true"]').count()).toBe(1)
      expect(await ui.page.locator('table.trace-nodes tr[data-resolved="false"]').count()).toBe(0)
      expect(await ui.page.locator('table.trace-nodes tr[data-fetched="true"]').textContent()).toContain('(fetched from a peer)')
      expect(ui.foreign).toEqual([])
    })
  })

  describe('the Artifact view', () => {
    it('shows, at tekton, what opnfv\'s tests said of onap\'s image, and its timeline across the communities', async () => {
      const ui = await openView(browser, 'tekton', `/artifact/${encodeURIComponent(IMAGE.purl)}`)
      await ui.page.waitForSelector('.artifact-confidence tbody tr', { timeout: UI_TIMEOUT_MS })
      const answer = await rest<ArtifactView>('tekton', `/v1/artifacts/${encodeURIComponent(IMAGE.purl)}`)
      expect(answer.confidence.map(c => c.community)).toEqual(['opnfv'])

      const stamp = await ui.page.$$eval('.artifact-confidence tbody tr', trs => trs.map(tr => [tr.getAttribute('data-community'), tr.getAttribute('data-outcome')]))
      expect(stamp).toEqual([['opnfv', 'success']])
      const timeline = await ui.page.$$eval('.artifact-timeline tbody tr', trs => trs.map(tr => tr.getAttribute('data-digest')))
      const expected = [...answer.lifecycle.map(n => n.id), ...answer.builds.map(n => n.id), ...answer.changes.map(n => n.id), ...answer.tests.map(t => t.digest), ...answer.deployments.map(d => d.digest)]
      expect(timeline.sort()).toEqual(expected.sort())
      // the deployment is tekton's, the test run opnfv's, the image onap's: three communities on one page
      expect(await ui.page.$$eval('.artifact-timeline tbody tr .community', spans => [...new Set(spans.map(s => s.textContent))].sort())).toEqual(['onap', 'opnfv', 'self'])

      // the field opens another artifact: one this node knows nothing of
      const other = 'pkg:npm/%40scope/unknown@1.0.0'
      await ui.page.fill('form.artifact-open input[name=purl]', other)
      await ui.page.click('form.artifact-open button')
      await ui.page.waitForURL(`**/ui/#/artifact/${encodeURIComponent(other)}`, { timeout: UI_TIMEOUT_MS })
      await ui.page.locator('.artifact-confidence .notice').waitFor({ timeout: UI_TIMEOUT_MS })
      expect(await ui.page.textContent('main h1')).toContain(other)
      expect(ui.foreign).toEqual([])
      expect(ui.errors).toEqual([])
    })
  })
})
