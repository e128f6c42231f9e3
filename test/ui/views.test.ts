import { expect, it } from 'vitest'
import { artifactPublished, serviceDeployed, startNodes } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import { UI_TIMEOUT_MS, describeBrowser, login, openPage, useBrowser } from './browser.js'

const PURL = 'pkg:oci/shop@sha256%3A' + 'ab'.repeat(32)

describeBrowser('web page in a browser: Event and Node views, the cookie\'s limits', () => {
  const browser = useBrowser()

  it('the Event view shows the CDEvent, its signer with trust name, and its links, held and not held', async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const api = node.api()
    const artifact = artifactPublished({ subject: PURL })
    const deployed = serviceDeployed({ subject: 'service/shop' })
    deployed.subject.content.artifactId = PURL
    deployed.context.links = [{ linkType: 'PATH', from: { contextId: 'elsewhere-build-7', source: 'https://ci.elsewhere.example' } }]
    const { body } = await api.request<Array<{ digest: string }>>('POST', '/v1/events', { json: [artifact, deployed] })
    const [a, d] = body as [{ digest: string }, { digest: string }]

    const ui = await openPage(browser(), node.node.apiUrl)
    await login(ui, node.node.apiUrl, node.token, `#/event/${d.digest}`)
    const page = ui.page
    await page.locator('table.facts').waitFor({ timeout: UI_TIMEOUT_MS })
    const facts = await page.locator('table.facts').textContent()
    expect(facts).toContain('dev.cdevents.service.deployed.0.3.0')
    expect(facts).toContain(`self ${node.peerId}`)
    expect(facts).toContain('verified')
    expect(facts).toContain('trusted')
    expect(await page.locator('pre.cdevent').textContent()).toContain('"service/shop"')
    expect(await page.locator('pre.record').textContent()).toContain('dssematerial')

    const held = page.locator(`ul.links a[href="#/event/${a.digest}"]`)
    expect(await held.textContent()).toContain('artifact.published')
    const unresolved = await page.locator('ul.links li.unresolved').allTextContents()
    expect(unresolved).toContainEqual(expect.stringContaining('https://ci.elsewhere.example elsewhere-build-7 (not held by this node)'))
    expect(await page.locator(`p.actions a[href="#/trace/${d.digest}"]`).count()).toBe(1)
    expect(await page.locator(`p.actions a[href="#/artifact/${encodeURIComponent(PURL)}"]`).count()).toBe(1)

    await held.click()
    await page.waitForURL(`**/ui/#/event/${a.digest}`)
    await page.locator('table.facts', { hasText: PURL }).waitFor({ timeout: UI_TIMEOUT_MS })
    expect(ui.foreign).toEqual([])
    expect(ui.errors).toEqual([])
  })

  it('the Node view shows the trust entries and the connected peer by its trust name', async () => {
    const nodes = await startNodes(2, {
      names: ['shop', 'lab'],
      configure: (config, { index, peerIds, names }) => {
        const other = 1 - index
        config.trust.communities = [{ peerId: peerIds[other] as string, name: `${names[other] as string}-community`, sources: ['*'] }]
      }
    })
    const [shop, lab] = nodes as [E2eNode, E2eNode]
    const ui = await openPage(browser(), shop.node.apiUrl)
    await login(ui, shop.node.apiUrl, shop.token, '#/node')
    const page = ui.page
    await page.locator('h2', { hasText: 'Trust' }).waitFor({ timeout: UI_TIMEOUT_MS })
    const text = await page.locator('main').textContent()
    expect(text).toContain('lab-community')
    expect(text).toContain(lab.peerId)
    expect(text).toContain(shop.peerId)
    expect(await page.locator('h2', { hasText: 'Peers (1)' }).count()).toBe(1)
    expect(await page.locator('h2', { hasText: 'Sync' }).count()).toBe(1)
    expect(ui.foreign).toEqual([])
    expect(ui.errors).toEqual([])
  })

  it('with only the cookie the page reads but cannot change state; /docs opens with it', async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const baseUrl = node.node.apiUrl
    const ui = await openPage(browser(), baseUrl)
    await login(ui, baseUrl, node.token, '#/node')
    const answer = await ui.page.evaluate(`(async () => {
      const read = await fetch('/v1/trust')
      const write = await fetch('/v1/subscriptions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ classes: ['*'] }) })
      return { read: read.status, write: write.status, body: await write.json() }
    })()`) as { read: number, write: number, body: { code: string } }
    expect(answer).toMatchObject({ read: 200, write: 403, body: { code: 'CDG_READ_ONLY_SESSION' } })
    expect(await node.api().request('GET', '/v1/subscriptions')).toMatchObject({ body: [] })

    const docs = await ui.page.goto(`${baseUrl}/docs/json`)
    expect(docs?.status()).toBe(200)
    expect(JSON.parse(await docs?.text() ?? '{}')).toMatchObject({ openapi: '3.1.0' })
    const docsPage = await ui.page.goto(`${baseUrl}/docs`)
    expect(docsPage?.status()).toBe(200)

    // another browser, without the cookie, gets neither
    const stranger = await openPage(browser(), baseUrl)
    expect((await stranger.page.goto(`${baseUrl}/docs/json`))?.status()).toBe(401)
    expect(ui.foreign).toEqual([])
  })
})
