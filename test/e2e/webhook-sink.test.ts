/**
 * The webhook sink's rules exist once (subscriptions/webhook-sink.ts): what POST /v1/subscriptions
 * accepts, delivery runs, and what delivery would refuse, the API refuses with a 400 naming the
 * field. Against a real node, real HTTP and a real receiver.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { MAX_MAX_AGE_SECONDS } from '../../src/subscriptions/index.js'
import { Receiver } from '../delivery/fixtures.js'
import { artifactPublished, startNodes, waitFor } from '../helpers/nodes.js'
import type { E2eNode } from '../helpers/nodes.js'

interface Answer { status: number, body: any }

async function call (node: E2eNode, method: 'POST' | 'GET', path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${node.node.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
}

describe('webhook sinks over the REST API', () => {
  it('refuses with 400 naming the field what delivery could not run, and delivers what it accepts', async () => {
    const [node] = await startNodes(1, { topology: 'none' }) as [E2eNode]
    const hook = await Receiver.start()
    onTestFinished(async () => { await hook.close() })

    // delivery sets X-Cdgossip-Origin and X-Cdgossip-Cursor itself: the whole prefix is reserved
    const trace = await call(node, 'POST', '/v1/subscriptions', {
      classes: ['artifact.*'], sink: { type: 'webhook', url: hook.url, headers: { 'X-Cdgossip-Trace': 'abc' } }
    })
    expect(trace.status).toBe(400)
    expect(trace.body.code).toBe('CDG_INVALID_REQUEST')
    expect(trace.body.violations).toEqual([{ path: '/sink/headers/X-Cdgossip-Trace', message: expect.stringContaining('X-Cdgossip-Trace') }])

    const tooOld = await call(node, 'POST', '/v1/subscriptions', {
      classes: ['artifact.*'], sink: { type: 'webhook', url: hook.url, maxAgeSeconds: MAX_MAX_AGE_SECONDS + 1 }
    })
    expect(tooOld.status).toBe(400)
    expect(tooOld.body.violations).toEqual([expect.objectContaining({ path: '/sink/maxAgeSeconds' })])
    expect((await call(node, 'GET', '/v1/subscriptions')).body).toEqual([])

    // ten days, over the 7 days delivery used to allow on its own: accepted, and it really delivers
    const created = await call(node, 'POST', '/v1/subscriptions', {
      id: 'ten-days', classes: ['artifact.*'], sink: { type: 'webhook', url: hook.url, maxAgeSeconds: 864_000, headers: { 'X-Team': 'release' } }
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.sink).toMatchObject({ maxAgeSeconds: 864_000 })

    const event = artifactPublished({ source: 'https://ci.example.org/webhook-sink' })
    const published = await call(node, 'POST', '/v1/events', event)
    expect(published.status).toBe(202)
    await waitFor(() => hook.acked().length === 1, { message: 'the webhook receives the event', timeout: 10_000 })
    const [request] = hook.requests
    expect(request?.headers['ce-id']).toBe(event.context.id)
    expect(request?.headers['x-team']).toBe('release')
    expect(request?.headers['x-cdgossip-origin']).toBe(node.peerId)
  })
})
