import { describe, it, expect } from 'vitest'
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../../src/api/index.js'
import { PEER_ID, cdevent, startApi, type TestApi } from './fake-node.js'

async function get (api: TestApi, url: string) {
  return await api.app.inject({ url, headers: api.auth })
}

async function seed (api: TestApi, ids: string[]): Promise<string[]> {
  const res = await api.app.inject({ method: 'POST', url: '/v1/events', headers: api.auth, payload: ids.map((id) => cdevent(id)) })
  expect(res.statusCode).toBe(202)
  return res.json().map((r: { digest: string }) => r.digest)
}

describe('GET /v1/events', () => {
  it('lists stored events as views of the signed record', async () => {
    const api = await startApi()
    const [digest] = await seed(api, ['a'])
    const res = await get(api, '/v1/events')
    expect(res.statusCode).toBe(200)
    const { events, next } = res.json()
    expect(next).toBeUndefined()
    expect(events).toHaveLength(1)
    const stored = await api.node.getEvent(digest ?? '')
    expect(events[0]).toEqual({
      cursor: 'c0',
      digest,
      origin: PEER_ID,
      class: 'pipelinerun.finished',
      sequence: 1,
      trusted: true,
      receivedAt: stored?.receivedAt,
      cloudEvent: JSON.parse(Buffer.from(stored?.event.bytes ?? []).toString()),
      cdevent: cdevent('a')
    })
  })

  it('hands typed filters to the node, with the default page size', async () => {
    const api = await startApi()
    const res = await get(api, '/v1/events?' + new URLSearchParams({
      type: 'pipelinerun.finished',
      source: 'https://ci.example.org/',
      subject: 'pipeline/build/42',
      chainId: 'chain-1',
      origin: PEER_ID,
      since: '2026-01-01T00:00:00Z',
      until: '2026-01-31T23:59:59.999+01:00',
      trusted: 'false',
      cursor: 'c7'
    }).toString())
    expect(res.statusCode).toBe(200)
    expect(api.node.calls.queries).toEqual([{
      type: 'pipelinerun.finished',
      source: 'https://ci.example.org/',
      subject: 'pipeline/build/42',
      chainId: 'chain-1',
      origin: PEER_ID,
      since: '2026-01-01T00:00:00Z',
      until: '2026-01-31T23:59:59.999+01:00',
      trusted: false,
      cursor: 'c7',
      limit: DEFAULT_PAGE_LIMIT
    }])
  })

  it('pages with limit and next', async () => {
    const api = await startApi()
    await seed(api, ['a', 'b', 'c'])
    const first = (await get(api, '/v1/events?limit=2')).json()
    expect(first.events.map((e: { cdevent: { context: { id: string } } }) => e.cdevent.context.id)).toEqual(['a', 'b'])
    expect(first.next).toBe('c1')
    const second = (await get(api, `/v1/events?limit=2&cursor=${first.next}`)).json()
    expect(second.events.map((e: { cdevent: { context: { id: string } } }) => e.cdevent.context.id)).toEqual(['c'])
    expect(second.next).toBeUndefined()
  })

  it('filters on trust as the node answers', async () => {
    const api = await startApi()
    await seed(api, ['mine'])
    api.node.storeRemote(cdevent('theirs'))
    const untrusted = (await get(api, '/v1/events?trusted=false')).json()
    expect(untrusted.events.map((e: { trusted: boolean, cdevent: { context: { id: string } } }) => [e.cdevent.context.id, e.trusted]))
      .toEqual([['theirs', false]])
  })

  it('refuses bad query parameters with 400 and violations', async () => {
    const api = await startApi()
    const cases: Array<[string, string]> = [
      ['limit=0', '/limit'],
      [`limit=${MAX_PAGE_LIMIT + 1}`, '/limit'],
      ['limit=ten', '/limit'],
      ['since=yesterday', '/since'],
      ['until=2026-13-01T00:00:00Z', '/until'],
      ['trusted=maybe', '/trusted'],
      ['origin=not%20a%20peer', '/origin'],
      ['colour=blue', '/colour'],
      ['type=a&type=b', '/type']
    ]
    for (const [query, path] of cases) {
      const res = await get(api, `/v1/events?${query}`)
      expect(res.statusCode, query).toBe(400)
      const body = res.json()
      expect(body.code, query).toBe('CDG_INVALID_REQUEST')
      expect(body.violations[0].path, query).toBe(path)
    }
    expect(api.node.calls.queries).toHaveLength(0)
    expect((await get(api, `/v1/events?limit=${MAX_PAGE_LIMIT}`)).statusCode).toBe(200)
  })

  it('passes the node\'s refusal of a cursor through as 400', async () => {
    const api = await startApi()
    const res = await get(api, '/v1/events?cursor=garbage')
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('CDG_INVALID_REQUEST')
  })
})

describe('GET /v1/events/:digest', () => {
  it('returns the stored record byte for byte', async () => {
    const api = await startApi()
    const [digest] = await seed(api, ['a'])
    const res = await get(api, `/v1/events/${digest}`)
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/cloudevents+json')
    expect(res.headers.etag).toBe(`"${digest}"`)
    const stored = await api.node.getEvent(digest ?? '')
    expect(res.rawPayload.equals(Buffer.from(stored?.event.bytes ?? []))).toBe(true)
    // the fake stores non-compact JSON: re-serializing would have changed the bytes
    expect(res.rawPayload.toString()).not.toBe(JSON.stringify(JSON.parse(res.rawPayload.toString())))
  })

  it('answers 404 for an absent digest and 400 for a malformed one', async () => {
    const api = await startApi()
    const absent = await get(api, `/v1/events/${'0'.repeat(64)}`)
    expect(absent.statusCode).toBe(404)
    expect(absent.json().code).toBe('CDG_NOT_FOUND')
    for (const bad of ['abc', 'A'.repeat(64), '0'.repeat(65), 'g'.repeat(64)]) {
      const res = await get(api, `/v1/events/${bad}`)
      expect(res.statusCode, bad).toBe(400)
      expect(res.json().code).toBe('CDG_INVALID_REQUEST')
    }
  })
})

describe('GET /v1/node and /v1/peers', () => {
  it('answers the node info and peers', async () => {
    const api = await startApi()
    // the node may report more than NodeInfo names (a trust name per peer, store size): keep it
    const peer = { peerId: 'peer-b', name: 'onap', addresses: ['/ip4/127.0.0.1/tcp/4002'], topics: ['cdgossip/test/pipelinerun.finished'] }
    api.node.peerList.push(peer)
    const base = await api.node.info()
    const extended = { ...base, store: { ...base.store, approximateBytes: 1234 } }
    api.node.info = async () => extended
    const info = await get(api, '/v1/node')
    expect(info.statusCode).toBe(200)
    expect(info.json()).toEqual(extended)
    const peers = await get(api, '/v1/peers')
    expect(peers.json()).toEqual(api.node.peerList)
  })
})
