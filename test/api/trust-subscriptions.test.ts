import { describe, it, expect } from 'vitest'
import { ConfigSubscriptionError } from '../../src/subscriptions/index.js'
import { InvalidTrustEntryError } from '../../src/trust/index.js'
import { PEER_ID, startApi, type TestApi } from './fake-node.js'

async function call (api: TestApi, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) {
  return await api.app.inject({ method, url, headers: api.auth, ...(payload === undefined ? {} : { payload: payload as object }) })
}

const DIGEST_A = 'a'.repeat(64)
const DIGEST_B = 'b'.repeat(64)

describe('trust routes', () => {
  it('adds, lists and removes trust entries', async () => {
    const api = await startApi()
    expect((await call(api, 'GET', '/v1/trust')).json()).toEqual({ mode: 'allowlist', entries: [] })

    const added = await call(api, 'POST', '/v1/trust', { peerId: PEER_ID, name: 'onap', sources: ['https://gerrit.onap.org/'] })
    expect(added.statusCode).toBe(201)
    expect(added.json()).toEqual({ peerId: PEER_ID, name: 'onap', sources: ['https://gerrit.onap.org/'], classes: ['*'] })
    expect((await call(api, 'GET', '/v1/trust')).json().entries).toHaveLength(1)

    expect((await call(api, 'DELETE', '/v1/trust/onap')).statusCode).toBe(204)
    const again = await call(api, 'DELETE', '/v1/trust/onap')
    expect(again.statusCode).toBe(404)
    expect(again.json().code).toBe('CDG_NOT_FOUND')
    expect((await call(api, 'GET', '/v1/trust')).json().entries).toEqual([])
  })

  it('removes by peer ID too', async () => {
    const api = await startApi()
    await call(api, 'POST', '/v1/trust', { peerId: PEER_ID, name: 'onap', sources: ['*'], classes: ['artifact.*'] })
    expect((await call(api, 'DELETE', `/v1/trust/${PEER_ID}`)).statusCode).toBe(204)
  })

  it('refuses malformed entries by schema', async () => {
    const api = await startApi()
    const cases: Array<[unknown, string]> = [
      [{ peerId: PEER_ID, name: 'onap' }, '/sources'],
      [{ peerId: PEER_ID, name: 'onap', sources: [] }, '/sources'],
      [{ peerId: PEER_ID, name: 'onap', sources: ['*'], admin: true }, '/admin'],
      [{ peerId: PEER_ID, name: 'has space', sources: ['*'] }, '/name'],
      [{ peerId: PEER_ID, name: 'onap', sources: ['*'], classes: ['Not A Class'] }, '/classes/0']
    ]
    for (const [payload, path] of cases) {
      const res = await call(api, 'POST', '/v1/trust', payload)
      expect(res.statusCode, path).toBe(400)
      expect(res.json().code).toBe('CDG_INVALID_REQUEST')
      expect(res.json().violations[0].path, JSON.stringify(payload)).toBe(path)
    }
    expect((await call(api, 'DELETE', '/v1/trust/bad%20name')).statusCode).toBe(400)
    expect(api.node.trust).toEqual([])
  })

  it('shows the node\'s own field errors as violations', async () => {
    const api = await startApi()
    api.node.failWith = new InvalidTrustEntryError('sources[1]', 'sources[1] must be a non-empty string')
    const res = await call(api, 'POST', '/v1/trust', { peerId: PEER_ID, name: 'onap', sources: ['*'] })
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({
      code: 'CDG_INVALID_REQUEST',
      violations: [{ path: '/sources/1', message: 'sources[1] must be a non-empty string' }]
    })
  })
})

describe('subscription routes', () => {
  it('creates a subscription with defaults, lists, gets and deletes it', async () => {
    const api = await startApi()
    const created = await call(api, 'POST', '/v1/subscriptions', { id: 'failures', classes: ['pipelinerun.finished'] })
    expect(created.statusCode).toBe(201)
    expect(created.json()).toMatchObject({
      id: 'failures',
      classes: ['pipelinerun.finished'],
      filter: {},
      includeUntrusted: false,
      start: { kind: 'now' },
      sink: { type: 'store' },
      origin: 'api'
    })
    expect((await call(api, 'GET', '/v1/subscriptions')).json()).toHaveLength(1)
    expect((await call(api, 'GET', '/v1/subscriptions/failures')).json()).toEqual(created.json())

    expect((await call(api, 'DELETE', '/v1/subscriptions/failures')).statusCode).toBe(204)
    expect((await call(api, 'DELETE', '/v1/subscriptions/failures')).statusCode).toBe(404)
    const gone = await call(api, 'GET', '/v1/subscriptions/failures')
    expect(gone.statusCode).toBe(404)
    expect(gone.json().code).toBe('CDG_NOT_FOUND')
  })

  it('defaults a webhook to binary mode and never shows its header values', async () => {
    const api = await startApi()
    const res = await call(api, 'POST', '/v1/subscriptions', {
      classes: ['artifact.*'],
      filter: { outcome: 'failure', origins: ['onap'] },
      start: { kind: 'beginning' },
      sink: { type: 'webhook', url: 'https://hooks.example.org/cd', headers: { Authorization: 'Bearer receiver-secret' } }
    })
    expect(res.statusCode).toBe(201)
    const body = res.json()
    expect(body.sink).toEqual({ type: 'webhook', url: 'https://hooks.example.org/cd', mode: 'binary', headers: { Authorization: '[redacted]' } })
    expect(res.body).not.toContain('receiver-secret')
    // the node got the real value
    const stored = api.node.getSubscription(body.id)
    expect(stored?.sink).toMatchObject({ headers: { Authorization: 'Bearer receiver-secret' } })
    const listed = await call(api, 'GET', '/v1/subscriptions')
    expect(listed.body).not.toContain('receiver-secret')
  })

  it('refuses malformed subscriptions by schema', async () => {
    const api = await startApi()
    const cases: unknown[] = [
      {},
      { classes: [] },
      { classes: ['No Such Class'] },
      { classes: ['*'], sink: { type: 'store', url: 'https://x.example.org' } },
      { classes: ['*'], sink: { type: 'webhook' } },
      { classes: ['*'], sink: { type: 'webhook', url: 'ftp://x.example.org' } },
      { classes: ['*'], start: { kind: 'cursor' } },
      { classes: ['*'], includeUntrusted: 'yes' },
      { classes: ['*'], extra: 1 }
    ]
    for (const payload of cases) {
      const res = await call(api, 'POST', '/v1/subscriptions', payload)
      expect(res.statusCode, JSON.stringify(payload)).toBe(400)
      expect(res.json().code).toBe('CDG_INVALID_REQUEST')
      expect(res.json().violations.length).toBeGreaterThan(0)
    }
    expect(api.node.subscriptions.size).toBe(0)
    expect((await call(api, 'GET', '/v1/subscriptions/Not_An_Id')).statusCode).toBe(400)
  })

  it('passes the node\'s refusal to delete a config subscription through', async () => {
    const api = await startApi()
    api.node.failWith = new ConfigSubscriptionError('from-config')
    const res = await call(api, 'DELETE', '/v1/subscriptions/from-config')
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('CDG_INVALID_REQUEST')
  })

  it('lists and redrives dead letters', async () => {
    const api = await startApi()
    await call(api, 'POST', '/v1/subscriptions', { id: 'hook', classes: ['*'], sink: { type: 'webhook', url: 'http://127.0.0.1:9/x' } })
    const letter = (digest: string) => ({ digest, cursor: 'c1', attempts: 10, lastStatus: 502, failedAt: '2026-01-02T03:04:05.000Z' })
    api.node.deadLetters.set('hook', [letter(DIGEST_A), letter(DIGEST_B)])

    const listed = await call(api, 'GET', '/v1/subscriptions/hook/dead-letters')
    expect(listed.statusCode).toBe(200)
    expect(listed.json()).toEqual([letter(DIGEST_A), letter(DIGEST_B)])

    const one = await call(api, 'POST', '/v1/subscriptions/hook/dead-letters', { digests: [DIGEST_B] })
    expect(one.json()).toEqual({ redriven: 1 })
    // no body at all: redrive everything left
    const rest = await api.app.inject({ method: 'POST', url: '/v1/subscriptions/hook/dead-letters', headers: api.auth })
    expect(rest.statusCode).toBe(200)
    expect(rest.json()).toEqual({ redriven: 1 })
    expect(api.node.calls.redrive).toEqual([{ id: 'hook', digests: [DIGEST_B] }, { id: 'hook' }])
  })

  it('discards dead letters: the given digests, then all of them with no body', async () => {
    const api = await startApi()
    await call(api, 'POST', '/v1/subscriptions', { id: 'hook', classes: ['*'], sink: { type: 'webhook', url: 'http://127.0.0.1:9/x' } })
    const letter = (digest: string) => ({ digest, cursor: 'c1', attempts: 10, lastStatus: 502, failedAt: '2026-01-02T03:04:05.000Z' })
    api.node.deadLetters.set('hook', [letter(DIGEST_A), letter(DIGEST_B)])

    const one = await call(api, 'DELETE', '/v1/subscriptions/hook/dead-letters', { digests: [DIGEST_B] })
    expect(one.statusCode).toBe(200)
    expect(one.json()).toEqual({ discarded: 1 })
    expect((await call(api, 'GET', '/v1/subscriptions/hook/dead-letters')).json()).toEqual([letter(DIGEST_A)])
    const rest = await api.app.inject({ method: 'DELETE', url: '/v1/subscriptions/hook/dead-letters', headers: api.auth })
    expect(rest.statusCode).toBe(200)
    expect(rest.json()).toEqual({ discarded: 1 })
    expect(api.node.calls.discard).toEqual([{ id: 'hook', digests: [DIGEST_B] }, { id: 'hook' }])
    expect((await call(api, 'DELETE', '/v1/subscriptions/nope/dead-letters')).statusCode).toBe(404)
    expect((await call(api, 'DELETE', '/v1/subscriptions/hook/dead-letters', { digests: ['xyz'] })).statusCode).toBe(400)
    // the subscription itself stays
    expect((await call(api, 'GET', '/v1/subscriptions/hook')).statusCode).toBe(200)
  })

  it('refuses redrives of unknown subscriptions or malformed digests', async () => {
    const api = await startApi()
    expect((await call(api, 'GET', '/v1/subscriptions/nope/dead-letters')).statusCode).toBe(404)
    expect((await call(api, 'POST', '/v1/subscriptions/nope/dead-letters', {})).statusCode).toBe(404)
    await call(api, 'POST', '/v1/subscriptions', { id: 'hook', classes: ['*'] })
    const bad = await call(api, 'POST', '/v1/subscriptions/hook/dead-letters', { digests: ['xyz'] })
    expect(bad.statusCode).toBe(400)
    expect(bad.json().violations[0].path).toBe('/digests/0')
    expect(api.node.calls.redrive).toEqual([])
  })
})
