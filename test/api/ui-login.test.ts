import { Writable } from 'node:stream'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { describe, expect, it, onTestFinished } from 'vitest'
import { buildApi } from '../../src/api/index.js'
import { redactQueryToken } from '../../src/api/build-api.js'
import { FakeNode, TOKEN, startApi } from './fake-node.js'
import type { TestApi } from './fake-node.js'

/** A bundle of the web page as `npm run build` writes it, minimal. */
async function uiDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cdgossip-ui-'))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>app</title><script type="module" src="/ui/app.js"></script>')
  await writeFile(join(dir, 'app.js'), 'console.log("app")')
  await writeFile(join(dir, 'app.css'), 'body {}')
  return dir
}

/** Logs in by the token URL; returns the `name=value` to send as Cookie. */
async function login (api: TestApi): Promise<string> {
  const res = await api.app.inject({ url: `/ui/?token=${TOKEN}` })
  expect(res.statusCode).toBe(303)
  const setCookie = String(res.headers['set-cookie'])
  return setCookie.slice(0, setCookie.indexOf(';'))
}

describe('web page login (token URL, session cookie)', () => {
  it('a right token sets an HttpOnly, SameSite=Strict session cookie and redirects without the token', async () => {
    const api = await startApi({ uiDir: await uiDir() })
    const res = await api.app.inject({ url: `/ui/?token=${TOKEN}` })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/ui/')
    const cookie = String(res.headers['set-cookie'])
    expect(cookie).toMatch(/^cdgossip-session-[0-9a-f]{8}=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+$/)
    expect(cookie).not.toContain(TOKEN)
    expect(res.headers['referrer-policy']).toBe('no-referrer')

    const page = await api.app.inject({ url: '/ui/', headers: { cookie: cookie.slice(0, cookie.indexOf(';')) } })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<title>app</title>')
    expect(page.headers['content-security-policy']).toContain("default-src 'self'")
  })

  it('without a session, or with a wrong token, shows how to log in (401), not the app, and sets no cookie', async () => {
    const api = await startApi({ uiDir: await uiDir() })
    for (const url of ['/ui/', '/ui', '/ui/?token=wrong', `/ui/?token=${TOKEN}x`, '/ui/?token=']) {
      const res = await api.app.inject({ url })
      expect(res.statusCode, url).toBe(401)
      expect(res.body, url).toContain('cdgossip ui')
      expect(res.body, url).not.toContain('/ui/app.js')
      expect(res.headers['set-cookie'], url).toBeUndefined()
    }
    const forged = await api.app.inject({ url: '/ui/', headers: { cookie: 'cdgossip-session-00000000=abc' } })
    expect(forged.statusCode).toBe(401)
  })

  it('the cookie reads the API and /docs, but a state change needs the bearer token (403 CDG_READ_ONLY_SESSION)', async () => {
    const api = await startApi({ uiDir: await uiDir() })
    const cookie = await login(api)
    expect((await api.app.inject({ url: '/v1/node', headers: { cookie } })).statusCode).toBe(200)
    expect((await api.app.inject({ url: '/docs/json', headers: { cookie } })).statusCode).toBe(200)
    expect((await api.app.inject({ url: '/docs', headers: { cookie } })).statusCode).toBeLessThan(400)

    const post = await api.app.inject({ method: 'POST', url: '/v1/trust', headers: { cookie }, payload: { peerId: 'x', name: 'x' } })
    expect(post.statusCode).toBe(403)
    expect(post.json()).toMatchObject({ code: 'CDG_READ_ONLY_SESSION' })
    const del = await api.app.inject({ method: 'DELETE', url: '/v1/subscriptions/s1', headers: { cookie } })
    expect(del.statusCode).toBe(403)
    expect(api.node.calls.publish).toHaveLength(0)
    // the bearer token still does everything, cookie or not
    expect((await api.app.inject({ url: '/v1/node', headers: { cookie, ...api.auth } })).statusCode).toBe(200)
    // a wrong bearer token is not rescued by a cookie
    expect((await api.app.inject({ url: '/v1/node', headers: { cookie, authorization: 'Bearer nope' } })).statusCode).toBe(401)
  })

  it('a cookie of another API instance opens nothing', async () => {
    const dir = await uiDir()
    const first = await startApi({ uiDir: dir })
    const second = await startApi({ uiDir: dir })
    const cookie = await login(first)
    expect((await second.app.inject({ url: '/v1/node', headers: { cookie } })).statusCode).toBe(401)
  })

  it('serves the bundle\'s assets with their media types and 404s anything else', async () => {
    const api = await startApi({ uiDir: await uiDir() })
    const js = await api.app.inject({ url: '/ui/app.js' })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['content-security-policy']).toContain("default-src 'self'")
    expect((await api.app.inject({ url: '/ui/app.css' })).headers['content-type']).toBe('text/css; charset=utf-8')
    for (const url of ['/ui/index.html', '/ui/nope.js', '/ui/..%2Fpackage.json']) {
      expect((await api.app.inject({ url })).statusCode, url).toBe(404)
    }
  })

  it('never logs the login URL\'s token', async () => {
    const lines: string[] = []
    const sink = new Writable({ write (chunk, _enc, done) { lines.push(String(chunk)); done() } })
    const app = await buildApi({ node: new FakeNode(), log: pino({ level: 'debug' }, sink) }, { token: TOKEN, version: '0.0.0-test', uiDir: await uiDir() })
    onTestFinished(async () => { await app.close() })
    await app.inject({ url: `/ui/?token=${TOKEN}` })
    await app.inject({ url: `/v1/node?token=${TOKEN}` })
    expect(lines.join('')).toContain('token=[redacted]')
    expect(lines.join('')).not.toContain(TOKEN)
    expect(redactQueryToken(`/ui/?a=1&token=${TOKEN}#x`)).toBe('/ui/?a=1&token=[redacted]#x')
  })
})
