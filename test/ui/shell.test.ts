import { expect, it } from 'vitest'
import { artifactPublished, pipelineRunFinished, startNodes } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'
import { UI_TIMEOUT_MS, describeBrowser, login, openPage, useBrowser } from './browser.js'

/** One real node (REST on 127.0.0.1) and a session in a fresh browser context. */
async function nodeAndPage (browser: ReturnType<ReturnType<typeof useBrowser>>, hash = ''): Promise<{ node: E2eNode, baseUrl: string, ui: Awaited<ReturnType<typeof openPage>> }> {
  const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
  const baseUrl = node.node.apiUrl
  const ui = await openPage(browser, baseUrl)
  await login(ui, baseUrl, node.token, hash)
  return { node, baseUrl, ui }
}

describeBrowser('web page in a browser: login and the Live view', () => {
  const browser = useBrowser()

  it('logs in by the token URL: an HttpOnly session cookie, and the token leaves the address bar', async () => {
    const { node, baseUrl, ui } = await nodeAndPage(browser())
    expect(ui.page.url()).toBe(`${baseUrl}/ui/`)
    const cookies = await ui.context.cookies()
    expect(cookies).toHaveLength(1)
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' })
    expect(cookies[0]?.value).not.toContain(node.token)
    // the page's scripts cannot read it
    expect(await ui.page.evaluate('document.cookie')).toBe('')
    expect(ui.foreign).toEqual([])
    expect(ui.errors).toEqual([])
  })

  it('refuses a wrong token: the login hint, no app, no cookie', async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const ui = await openPage(browser(), node.node.apiUrl)
    const response = await ui.page.goto(`${node.node.apiUrl}/ui/?token=${encodeURIComponent(node.token + 'x')}`)
    expect(response?.status()).toBe(401)
    expect(await ui.page.locator('main.login').textContent()).toContain('cdgossip ui')
    expect(await ui.page.locator('header nav').count()).toBe(0)
    expect(await ui.context.cookies()).toEqual([])
  })

  it('shows an event published over REST in Live without a reload', async () => {
    const { node, ui } = await nodeAndPage(browser(), '#/live')
    await ui.page.locator('.status.ok').waitFor({ timeout: UI_TIMEOUT_MS })
    const loads: string[] = []
    ui.page.on('load', () => { loads.push(ui.page.url()) })
    const event = pipelineRunFinished({ subject: 'run-live-42' })
    const { body: receipt } = await node.api().request<{ digest: string }>('POST', '/v1/events', { json: event })
    const row = ui.page.locator(`tr[data-digest="${receipt.digest}"]`)
    await row.waitFor({ timeout: UI_TIMEOUT_MS })
    const text = await row.textContent()
    expect(text).toContain('run-live-42')
    expect(text).toContain('pipelinerun.finished')
    expect(text).toContain('self')
    expect(loads).toEqual([])
    await row.click()
    await ui.page.waitForURL(`**/ui/#/event/${receipt.digest}`)
    expect(ui.foreign).toEqual([])
  })

  it('filters Live with GET /v1/events\' filters from its form, kept in the link', async () => {
    const { node, baseUrl, ui } = await nodeAndPage(browser(), '#/live')
    const { page } = ui
    await page.locator('input[name="type"]').fill('artifact.*')
    await page.locator('form.filters button').click()
    await page.waitForURL(url => url.hash === '#/live?type=artifact.*')
    await page.locator('.status.ok').waitFor({ timeout: UI_TIMEOUT_MS })
    const api = node.api()
    const { body: run } = await api.request<{ digest: string }>('POST', '/v1/events', { json: pipelineRunFinished() })
    const { body: artifact } = await api.request<{ digest: string }>('POST', '/v1/events', { json: artifactPublished() })
    await page.locator(`tr[data-digest="${artifact.digest}"]`).waitFor({ timeout: UI_TIMEOUT_MS })
    // published first, so it would be on the page by now were it not filtered out
    expect(await page.locator(`tr[data-digest="${run.digest}"]`).count()).toBe(0)
    expect(await page.locator('input[name="type"]').inputValue()).toBe('artifact.*')

    await page.goto(`${baseUrl}/ui/#/live?type=no-such-class`)
    await page.locator('.status.error').waitFor({ timeout: UI_TIMEOUT_MS })
    expect(await page.locator('.status.error').textContent()).toMatch(/^CDG_INVALID_REQUEST: /)
  })

  it('loads every view with no request to anything but the node', async () => {
    const { baseUrl, ui } = await nodeAndPage(browser())
    const seen: string[] = []
    ui.page.on('request', request => { seen.push(request.url()) })
    for (const hash of ['#/live', '#/node', `#/event/${'0'.repeat(64)}`]) {
      await ui.page.goto(`${baseUrl}/ui/${hash}`)
      await ui.page.locator('main h1').waitFor({ timeout: UI_TIMEOUT_MS })
    }
    expect(seen.some(url => url.startsWith(`${baseUrl}/v1/`))).toBe(true)
    expect(ui.foreign).toEqual([])
    // the page's CSP stops its scripts from reaching elsewhere before any request leaves
    expect(await ui.page.evaluate('fetch("http://192.0.2.1/x").then(() => "sent", () => "refused")')).toBe('refused')
    expect(ui.foreign).toEqual([])
    // the guard itself: a request elsewhere (a navigation, which no CSP governs) is caught and recorded
    await ui.page.goto('http://192.0.2.1/x').catch(() => {})
    expect(ui.foreign).toEqual(['http://192.0.2.1/x'])
  })
})
