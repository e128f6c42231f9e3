import { describe, expect, it } from 'vitest'
import { PEER_ID, startApi } from './fake-node.js'

describe('GET /v1/config', () => {
  it('needs the token', async () => {
    const api = await startApi()
    const res = await api.app.inject({ url: '/v1/config' })
    expect(res.statusCode).toBe(401)
    expect(res.json().code).toBe('CDG_UNAUTHORIZED')
  })

  it('answers the loaded configuration, the live trust entries and the live subscriptions', async () => {
    const api = await startApi()
    const auth = { headers: api.auth }
    api.node.configValue = { ...api.node.configValue, p2p: { listen: [], bootstrap: [], mdns: false, relay: ['*'], heartbeatMs: 1000, targetConnections: 8 } }
    await api.app.inject({ method: 'POST', url: '/v1/trust', payload: { peerId: PEER_ID, name: 'onap', sources: ['*'] }, ...auth })
    await api.app.inject({ method: 'POST', url: '/v1/subscriptions', payload: { id: 'hook', classes: ['artifact.*'], sink: { type: 'webhook', url: 'https://hooks.example.org/x', headers: { authorization: 'Bearer s3cr3t' } } }, ...auth })
    const res = await api.app.inject({ url: '/v1/config', ...auth })
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body.config.network).toBe('test')
    expect(body.config.p2p.relay).toEqual(['*'])
    // a key added to the configuration later passes through the open schema
    expect(body.config.p2p.targetConnections).toBe(8)
    expect(body.trust).toEqual({ mode: 'allowlist', entries: [{ peerId: PEER_ID, name: 'onap', sources: ['*'], classes: ['*'] }] })
    expect(body.subscriptions.map((s: { id: string }) => s.id)).toEqual(['hook'])
    expect(res.body).not.toContain('s3cr3t')
    expect(body.subscriptions[0].sink.headers).toEqual({ authorization: '[redacted]' })
  })
})
