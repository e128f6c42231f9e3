import { describe, it, expect } from 'vitest'
import { startApi } from './fake-node.js'

interface Operation {
  security?: unknown[]
  requestBody?: { content: Record<string, unknown> }
  parameters?: Array<{ in: string, name: string }>
  responses: Record<string, unknown>
}

describe('OpenAPI document', () => {
  it('lists every route, generated from the route schemas', async () => {
    const api = await startApi()
    const res = await api.app.inject({ url: '/docs/json', headers: api.auth })
    expect(res.statusCode).toBe(200)
    const doc = res.json()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.version).toBe('0.0.0-test')

    const operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
      .sort()
    expect(operations).toEqual([
      'DELETE /v1/sources/{name}',
      'DELETE /v1/subscriptions/{id}',
      'DELETE /v1/subscriptions/{id}/dead-letters',
      'DELETE /v1/trust/{peerIdOrName}',
      'GET /healthz',
      'GET /metrics',
      'GET /v1/artifacts/{purl}',
      'GET /v1/chains/{chainId}',
      'GET /v1/communities',
      'GET /v1/config',
      'GET /v1/events',
      'GET /v1/events/{digest}',
      'GET /v1/events/{digest}/trace',
      'GET /v1/node',
      'GET /v1/peers',
      'GET /v1/sources',
      'GET /v1/stream',
      'GET /v1/subscriptions',
      'GET /v1/subscriptions/{id}',
      'GET /v1/subscriptions/{id}/dead-letters',
      'GET /v1/trust',
      'POST /v1/community/manifests',
      'POST /v1/events',
      'POST /v1/records',
      'POST /v1/sources',
      'POST /v1/sources/{name}/test',
      'POST /v1/subscriptions',
      'POST /v1/subscriptions/{id}/dead-letters',
      'POST /v1/trust'
    ])
  })

  it('describes auth, publish media types, query parameters and the error shape', async () => {
    const api = await startApi()
    const doc = (await api.app.inject({ url: '/docs/json', headers: api.auth })).json()
    const paths = doc.paths as Record<string, Record<string, Operation>>

    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    expect(paths['/healthz']?.get?.security).toEqual([])
    expect(paths['/v1/events']?.get?.security).toEqual([{ bearerAuth: [] }])

    const publish = paths['/v1/events']?.post
    expect(Object.keys(publish?.requestBody?.content ?? {}).sort()).toEqual([
      'application/cloudevents+json', 'application/cloudevents-batch+json', 'application/json'
    ])
    expect(publish?.parameters?.filter((p) => p.in === 'header').map((p) => p.name)).toContain('ce-specversion')
    expect(Object.keys(publish?.responses ?? {})).toEqual(expect.arrayContaining(['200', '202', '400', '401', '409', '413', '415', '422']))

    const query = paths['/v1/events']?.get?.parameters?.filter((p) => p.in === 'query').map((p) => p.name).sort()
    expect(query).toEqual(['chainId', 'cursor', 'limit', 'origin', 'since', 'source', 'subject', 'trusted', 'type', 'until'])

    expect(doc.components.schemas.ApiError.required).toEqual(['statusCode', 'code', 'error', 'message'])
    expect(Object.keys(paths['/v1/events/{digest}']?.get?.responses['200'] as object)).toContain('content')
  })

  it('serves the UI under /docs with the token', async () => {
    const api = await startApi()
    const res = await api.app.inject({ url: '/docs', headers: api.auth })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toContain('text/html')
  })
})
