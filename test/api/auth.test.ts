import { Writable } from 'node:stream'
import { describe, it, expect, onTestFinished } from 'vitest'
import { pino } from 'pino'
import { buildApi } from '../../src/api/index.js'
import { FakeNode, TOKEN, cdevent, startApi } from './fake-node.js'

const ERROR_KEYS = ['code', 'error', 'message', 'statusCode']

describe('bearer auth', () => {
  it('leaves GET /healthz open', async () => {
    const { app } = await startApi()
    const res = await app.inject({ url: '/healthz' })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ status: 'ok' })
  })

  it('refuses a request without a token with 401 and a Bearer challenge', async () => {
    const { app } = await startApi()
    const res = await app.inject({ url: '/v1/node' })
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="cdgossip"')
    const body = res.json()
    expect(Object.keys(body).sort()).toEqual(ERROR_KEYS)
    expect(body).toMatchObject({ statusCode: 401, code: 'CDG_UNAUTHORIZED', error: 'Unauthorized' })
  })

  it('refuses a wrong token, of any length, with invalid_token', async () => {
    const { app } = await startApi()
    for (const token of ['nope', TOKEN.slice(0, -1) + 'X', TOKEN + 'X', '']) {
      const res = await app.inject({ url: '/v1/node', headers: { authorization: `Bearer ${token}` } })
      expect(res.statusCode, token).toBe(401)
      expect(res.json().code).toBe('CDG_UNAUTHORIZED')
    }
    const wrong = await app.inject({ url: '/v1/node', headers: { authorization: 'Bearer nope' } })
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="cdgossip", error="invalid_token"')
  })

  it('refuses other schemes', async () => {
    const { app } = await startApi()
    const res = await app.inject({ url: '/v1/node', headers: { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` } })
    expect(res.statusCode).toBe(401)
  })

  it('accepts the right token (scheme case-insensitive)', async () => {
    const { app, auth } = await startApi()
    const res = await app.inject({ url: '/v1/node', headers: auth })
    expect(res.statusCode).toBe(200)
    expect(res.json().network).toBe('test')
    const lower = await app.inject({ url: '/v1/node', headers: { authorization: `bearer ${TOKEN}` } })
    expect(lower.statusCode).toBe(200)
  })

  it('checks the token before reading a publish body', async () => {
    const { app, node } = await startApi()
    const res = await app.inject({ method: 'POST', url: '/v1/events', payload: cdevent() })
    expect(res.statusCode).toBe(401)
    expect(node.calls.publish).toHaveLength(0)
  })

  it('protects the OpenAPI docs', async () => {
    const { app, auth } = await startApi()
    expect((await app.inject({ url: '/docs/json' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/docs' })).statusCode).toBe(401)
    expect((await app.inject({ url: '/docs/json', headers: auth })).statusCode).toBe(200)
  })

  it('answers unknown routes with the error shape', async () => {
    const { app, auth } = await startApi()
    const res = await app.inject({ url: '/v1/nothing', headers: auth })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ statusCode: 404, code: 'CDG_NOT_FOUND', error: 'Not Found' })
  })

  it('never logs the token', async () => {
    const lines: string[] = []
    const sink = new Writable({
      write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() }
    })
    // a root logger whose req serializer would print every header: the API must still hide the token
    const log = pino({ level: 'trace', serializers: { req: (req: { headers: unknown }) => ({ headers: req.headers }) } }, sink)
    const app = await buildApi({ node: new FakeNode(), log: log.child({ component: 'api' }) }, { token: TOKEN, version: 'test' })
    onTestFinished(async () => { await app.close() })
    await app.inject({ url: '/v1/node', headers: { authorization: `Bearer ${TOKEN}` } })
    await app.inject({ url: '/v1/node', headers: { authorization: 'Bearer wrong-secret-token' } })
    await app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${TOKEN}` }, payload: { not: 'an event' } })

    const all = lines.join('')
    expect(lines.length).toBeGreaterThan(3)
    expect(all).toContain('CDG_UNAUTHORIZED')
    expect(all).toContain('"component":"api"')
    expect(all).not.toContain(TOKEN)
    expect(all).not.toContain('wrong-secret-token')
  })

  it('refuses to build without a token', async () => {
    await expect(buildApi({ node: new FakeNode() }, { token: ' ', version: 'test' })).rejects.toMatchObject({ code: 'CDG_CONFIG' })
    await expect(buildApi({ node: new FakeNode() }, { token: TOKEN, version: 'test', bodyLimit: 0 })).rejects.toMatchObject({ code: 'CDG_CONFIG' })
  })
})
