import { HTTP } from 'cloudevents'
import { describe, expect, it, onTestFinished } from 'vitest'
import {
  DeliveryService,
  InvalidSinkError,
  buildWebhookRequest,
  percentEncodeHeaderValue,
  resolveWebhookSink
} from '../../src/delivery/index.js'
import type { DeadLetter, DeliveryProgress } from '../../src/delivery/index.js'
import type { StoredEvent } from '../../src/store/types.js'
import type { WebhookSink } from '../../src/subscriptions/types.js'
import { MemorySource, MemoryStateSection, ORIGIN, Receiver, makeStored, matches, waitFor, webhookSubscription } from './fixtures.js'
import type { ReceivedRequest } from './fixtures.js'

/** Deliver one record through a real DeliveryService to a real receiver and return the request it got. */
async function deliverOne (stored: StoredEvent, sink: Partial<WebhookSink> = {}): Promise<ReceivedRequest> {
  const hook = await Receiver.start()
  onTestFinished(async () => { await hook.close() })
  const source = new MemorySource()
  const service = new DeliveryService({
    source,
    matches,
    progress: new MemoryStateSection<DeliveryProgress>(),
    deadLetters: new MemoryStateSection<DeadLetter[]>()
  }, { backoffBaseMs: 5, backoffMaxMs: 20 })
  onTestFinished(async () => { await service.stop() })
  source.append(stored)
  await service.syncSubscriptions([webhookSubscription('s1', { url: hook.url, ...sink })])
  await service.start()
  await waitFor(() => hook.requests.length === 1, { message: 'one request' })
  const request = hook.requests[0]
  if (request === undefined) throw new Error('no request')
  return request
}

function headerString (request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

describe('CloudEvents HTTP binding', () => {
  it('sends binary mode that the CloudEvents SDK parses, with the signed data bytes untouched', async () => {
    const stored = makeStored(7)
    const request = await deliverOne(stored, { headers: { authorization: 'Bearer receiver-token' } })

    expect(request.method).toBe('POST')
    expect(Buffer.compare(request.body, Buffer.from(stored.event.data))).toBe(0)
    expect(headerString(request, 'content-type')).toBe('application/json')

    const event = HTTP.toEvent({ headers: request.headers, body: request.body.toString('utf8') })
    if (Array.isArray(event)) throw new Error('expected a single event')
    const attributes = stored.event.attributes
    expect(event.specversion).toBe('1.0')
    expect(event.id).toBe(attributes.id)
    expect(event.source).toBe(attributes.source)
    expect(event.type).toBe(attributes.type)
    expect(event.subject).toBe(attributes.subject)
    expect(new Date(String(event.time)).toISOString()).toBe(attributes.time)
    expect(event.datacontenttype).toBe('application/json')
    expect(event.sequence).toBe(attributes.sequence)
    expect(event.signedextattrs).toBe(attributes.signedextattrs)
    expect(event.dssematerial).toBe(attributes.dssematerial)
    expect(event.data).toEqual(stored.event.cdevent)

    expect(headerString(request, 'x-cdgossip-origin')).toBe(ORIGIN)
    expect(headerString(request, 'x-cdgossip-cursor')).toBe(stored.cursor)
    expect(headerString(request, 'authorization')).toBe('Bearer receiver-token')
  })

  it('sends structured mode as the exact signed wire record', async () => {
    const stored = makeStored(8)
    const request = await deliverOne(stored, { mode: 'structured' })

    expect(headerString(request, 'content-type')).toBe('application/cloudevents+json; charset=utf-8')
    expect(Buffer.compare(request.body, Buffer.from(stored.event.bytes))).toBe(0)
    expect(headerString(request, 'ce-id')).toBeUndefined()
    const event = HTTP.toEvent({ headers: request.headers, body: request.body.toString('utf8') })
    if (Array.isArray(event)) throw new Error('expected a single event')
    expect(event.id).toBe(stored.event.attributes.id)
    expect(event.dssematerial).toBe(stored.event.attributes.dssematerial)
  })

  it('percent-encodes header values per the HTTP binding', async () => {
    expect(percentEncodeHeaderValue('Euro € 😀')).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80')
    expect(percentEncodeHeaderValue('a"b%c\td')).toBe('a%22b%25c%09d')
    expect(percentEncodeHeaderValue('/ci/jenkins?x=1&y=~')).toBe('/ci/jenkins?x=1&y=~')

    const subject = 'build 42 / été 🚀 "q" 100%'
    const stored = makeStored(9, { subject })
    const request = await deliverOne(stored)
    const header = headerString(request, 'ce-subject')
    expect(header).toBe('build%2042%20/%20%C3%A9t%C3%A9%20%F0%9F%9A%80%20%22q%22%20100%25')
    expect(decodeURIComponent(header ?? '')).toBe(subject)
    // data bytes are never re-encoded, whatever the attributes hold
    expect(Buffer.compare(request.body, Buffer.from(stored.event.data))).toBe(0)
  })

  it('never lets custom headers replace ce-*, content-type or cdgossip headers', () => {
    const stored = makeStored(1)
    const request = buildWebhookRequest(stored, {
      mode: 'binary',
      headers: { 'CE-ID': 'spoofed', 'Content-Type': 'text/plain', 'x-cdgossip-origin': 'someone', 'X-Team': 'release' }
    })
    expect(request.headers['ce-id']).toBe(stored.event.attributes.id)
    expect(request.headers['content-type']).toBe('application/json')
    expect(request.headers['x-cdgossip-origin']).toBe(ORIGIN)
    expect(request.headers['x-team']).toBe('release')
    expect(Object.keys(request.headers).filter(name => name.toLowerCase() === 'ce-id')).toHaveLength(1)
    expect(request.body).toBe(stored.event.data)
  })

  it('resolves sinks with the subscription rules and defaults, and refuses what they refuse', () => {
    const sink: WebhookSink = { type: 'webhook', mode: 'binary', url: 'https://hooks.example/cd', headers: { 'X-Team': 'release' } }
    expect(resolveWebhookSink(sink)).toEqual({
      url: 'https://hooks.example/cd', mode: 'binary', headers: { 'x-team': 'release' }, maxAttempts: 10, maxAgeMs: 86_400_000, timeoutMs: 10_000
    })
    expect(resolveWebhookSink({ ...sink, maxAgeSeconds: 864_000 }).maxAgeMs).toBe(864_000_000)

    const refused: Array<Partial<WebhookSink>> = [
      { url: 'file:///etc/passwd' },
      { url: 'https://user:pw@hooks.example/' },
      { headers: { 'X-Cdgossip-Trace': 'abc' } },
      { headers: { 'ce-type': 'x' } },
      { headers: { 'Content-Encoding': 'gzip' } },
      { headers: { 'Proxy-Authorization': 'x' } },
      { headers: { ok: 'line\nbreak' } },
      { maxAttempts: 0 },
      { maxAgeSeconds: 2_592_001 },
      { timeoutMs: 10 }
    ]
    for (const change of refused) {
      let error: unknown
      try {
        resolveWebhookSink({ ...sink, ...change })
      } catch (err) {
        error = err
      }
      expect(error, JSON.stringify(change)).toBeInstanceOf(InvalidSinkError)
      expect(error).toMatchObject({ code: 'CDG_INVALID_REQUEST', name: 'InvalidSinkError' })
      expect((error as InvalidSinkError).details?.problems).toHaveLength(1)
    }
  })
})
