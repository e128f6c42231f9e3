import { describe, it, expect } from 'vitest'
import { MAX_BATCH_ITEMS } from '../../src/api/index.js'
import { CdgossipError, NotStartedError } from '../../src/errors.js'
import { InvalidEventError } from '../../src/events/index.js'
import { UntrustedSignerError } from '../../src/trust/index.js'
import { cdevent, startApi, structured, type TestApi } from './fake-node.js'

const JSON_TYPE = { 'content-type': 'application/json' }
const CE_TYPE = { 'content-type': 'application/cloudevents+json' }
const CE_BATCH_TYPE = { 'content-type': 'application/cloudevents-batch+json' }

async function publish (api: TestApi, payload: unknown, headers: Record<string, string> = JSON_TYPE) {
  return await api.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: { ...api.auth, ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload)
  })
}

function binaryHeaders (overrides: Record<string, string> = {}): Record<string, string> {
  const event = cdevent()
  return {
    ...JSON_TYPE,
    'ce-specversion': '1.0',
    'ce-id': event.context.id,
    'ce-source': event.context.source,
    'ce-type': event.context.type,
    ...overrides
  }
}

describe('POST /v1/events content types', () => {
  it('publishes a bare CDEvent: 202 with one receipt', async () => {
    const api = await startApi()
    const res = await publish(api, cdevent())
    expect(res.statusCode).toBe(202)
    expect(res.json()).toMatchObject({ id: 'run-1', class: 'pipelinerun.finished', sequence: 1, status: 'created' })
    expect(res.json().digest).toMatch(/^[0-9a-f]{64}$/)
    expect(api.node.calls.publish).toEqual([[{ cdevent: cdevent() }]])
  })

  it('answers receipts as JSON with exactly the documented members, one or a list', async () => {
    const api = await startApi()
    // a receipt with more than the schema documents: only the documented members are answered
    const publish0 = api.node.publish.bind(api.node)
    api.node.publish = async (items) => (await publish0(items)).map((r) => ({ ...r, internal: 'not for clients' }))
    const members = ['class', 'digest', 'id', 'sequence', 'source', 'status', 'type']
    const one = await publish(api, cdevent('x'))
    expect(one.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(Object.keys(one.json() as object).sort()).toEqual(members)
    expect(one.json()).toMatchObject({ id: 'x', source: cdevent('x').context.source, type: cdevent('x').context.type, class: 'pipelinerun.finished', sequence: 1, status: 'created' })
    const list = await publish(api, [cdevent('y'), cdevent('z')])
    expect(list.headers['content-type']).toBe('application/json; charset=utf-8')
    const receipts = list.json() as Array<Record<string, unknown>>
    expect(receipts.map((r) => r.id)).toEqual(['y', 'z'])
    for (const r of receipts) expect(Object.keys(r).sort()).toEqual(members)
  })

  it('accepts a charset parameter on application/json', async () => {
    const api = await startApi()
    const res = await publish(api, cdevent(), { 'content-type': 'application/json; charset=utf-8' })
    expect(res.statusCode).toBe(202)
  })

  it('answers an idempotent repeat with 200 and an existing receipt', async () => {
    const api = await startApi()
    const first = await publish(api, cdevent())
    const again = await publish(api, cdevent())
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual({ ...first.json(), status: 'existing' })
  })

  it('publishes a JSON array as a batch: a list of receipts, 202 when anything is new', async () => {
    const api = await startApi()
    await publish(api, cdevent('a'))
    const res = await publish(api, [cdevent('a'), cdevent('b')])
    expect(res.statusCode).toBe(202)
    expect(res.json().map((r: { id: string, status: string }) => [r.id, r.status])).toEqual([['a', 'existing'], ['b', 'created']])
    const repeat = await publish(api, [cdevent('a'), cdevent('b')])
    expect(repeat.statusCode).toBe(200)
    expect(Array.isArray(repeat.json())).toBe(true)
  })

  it('publishes a structured-mode CloudEvent with its attributes (minus data) for the node', async () => {
    const api = await startApi()
    const res = await publish(api, structured(cdevent(), { myext: 'x' }), CE_TYPE)
    expect(res.statusCode).toBe(202)
    expect(res.json().id).toBe('run-1')
    const [item] = api.node.calls.publish[0] ?? []
    expect(item?.cdevent).toEqual(cdevent())
    expect(item?.cloudEventAttributes).toEqual({
      specversion: '1.0',
      id: 'run-1',
      source: 'https://ci.example.org/jobs/build',
      type: 'dev.cdevents.pipelinerun.finished.0.3.0',
      time: '2026-01-02T03:04:05Z',
      datacontenttype: 'application/json',
      myext: 'x'
    })
  })

  it('decodes data_base64 in structured mode', async () => {
    const api = await startApi()
    const { data, ...envelope } = structured(cdevent())
    const res = await publish(api, { ...envelope, data_base64: Buffer.from(JSON.stringify(data)).toString('base64') }, CE_TYPE)
    expect(res.statusCode).toBe(202)
    expect(api.node.calls.publish[0]?.[0]?.cdevent).toEqual(cdevent())
    expect(api.node.calls.publish[0]?.[0]?.cloudEventAttributes).not.toHaveProperty('data_base64')
  })

  it('refuses both data and data_base64, or base64 that is not a CDEvent, with 422', async () => {
    const api = await startApi()
    const both = await publish(api, { ...structured(cdevent()), data_base64: 'e30=' }, CE_TYPE)
    expect(both.statusCode).toBe(422)
    expect(both.json()).toMatchObject({ code: 'CDG_INVALID_CLOUDEVENT', mismatches: [{ attribute: 'data_base64' }] })
    const { data: _data, ...envelope } = structured(cdevent())
    for (const dataBase64 of ['not base64!', Buffer.from('not json').toString('base64')]) {
      const res = await publish(api, { ...envelope, data_base64: dataBase64 }, CE_TYPE)
      expect(res.statusCode, dataBase64).toBe(422)
      expect(res.json().code).toBe('CDG_INVALID_CLOUDEVENT')
    }
    const none = await publish(api, envelope, CE_TYPE)
    expect(none.statusCode).toBe(422)
    expect(api.node.calls.publish).toHaveLength(0)
  })

  it('publishes a CloudEvents batch all-or-nothing', async () => {
    const api = await startApi()
    const res = await publish(api, [structured(cdevent('a')), structured(cdevent('b'))], CE_BATCH_TYPE)
    expect(res.statusCode).toBe(202)
    expect(res.json()).toHaveLength(2)

    // one bad item (its attributes disagree with its CDEvent) fails the whole batch
    const bad = await publish(api, [structured(cdevent('c')), structured(cdevent('d'), { id: 'other' })], CE_BATCH_TYPE)
    expect(bad.statusCode).toBe(422)
    const listed = await api.app.inject({ url: '/v1/events', headers: api.auth })
    expect(listed.json().events.map((e: { cdevent: { context: { id: string } } }) => e.cdevent.context.id)).toEqual(['a', 'b'])
  })

  it('publishes a binary-mode CloudEvent, percent-decoding the ce- headers', async () => {
    const api = await startApi()
    const event = cdevent('run 1/ü')
    const res = await publish(api, event, binaryHeaders({
      'ce-id': 'run%201%2F%C3%BC',
      'ce-subject': 'pipeline%2Fbuild%2F42',
      'ce-note': '100%25 %22quoted%22 a+b'
    }))
    expect(res.statusCode).toBe(202)
    expect(res.json().id).toBe('run 1/ü')
    expect(api.node.calls.publish[0]?.[0]).toEqual({
      cdevent: event,
      cloudEventAttributes: {
        specversion: '1.0',
        id: 'run 1/ü',
        source: 'https://ci.example.org/jobs/build',
        type: 'dev.cdevents.pipelinerun.finished.0.3.0',
        subject: 'pipeline/build/42',
        note: '100% "quoted" a+b',
        datacontenttype: 'application/json'
      }
    })
  })

  it('refuses bad percent-encoding in a ce- header with 422', async () => {
    const api = await startApi()
    const res = await publish(api, cdevent(), binaryHeaders({ 'ce-id': 'run%E0%A4%A' }))
    expect(res.statusCode).toBe(422)
    expect(res.json()).toMatchObject({ code: 'CDG_INVALID_CLOUDEVENT', mismatches: [{ attribute: 'id' }] })
  })

  it('refuses an incomplete binary-mode header set with violations', async () => {
    const api = await startApi()
    const { 'ce-id': _id, ...withoutId } = binaryHeaders()
    const res = await publish(api, cdevent(), withoutId)
    expect(res.statusCode).toBe(400)
    expect(res.json()).toMatchObject({ code: 'CDG_INVALID_REQUEST', violations: [{ path: '/ce-id' }] })

    const orphan = await publish(api, cdevent(), { ...JSON_TYPE, 'ce-id': 'run-1' })
    expect(orphan.statusCode).toBe(400)
    expect(orphan.json().violations[0].path).toBe('/ce-specversion')

    const array = await publish(api, [cdevent()], binaryHeaders())
    expect(array.statusCode).toBe(400)
    expect(array.json().code).toBe('CDG_INVALID_REQUEST')
    expect(api.node.calls.publish).toHaveLength(0)
  })

  it('refuses other media types with 415 naming the accepted ones', async () => {
    const api = await startApi()
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await publish(api, '{}', { 'content-type': type })
      expect(res.statusCode, type).toBe(415)
      const body = res.json()
      expect(body.code).toBe('CDG_UNSUPPORTED_MEDIA_TYPE')
      for (const accepted of ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json']) {
        expect(body.message).toContain(accepted)
      }
    }
    // the CloudEvents types are for events only
    const trust = await api.app.inject({ method: 'POST', url: '/v1/trust', headers: { ...api.auth, ...CE_TYPE }, payload: '{}' })
    expect(trust.statusCode).toBe(415)
    expect(trust.json().message).toMatch(/accepted: application\/json$/)
    expect(trust.headers['accept-post']).toBe('application/json')
  })

  it('refuses a body over the limit with 413', async () => {
    const api = await startApi({ bodyLimit: 2048 })
    const big = cdevent()
    big.subject.content.padding = 'x'.repeat(4096)
    const res = await publish(api, big)
    expect(res.statusCode).toBe(413)
    expect(res.json()).toMatchObject({ statusCode: 413, code: 'CDG_EVENT_TOO_LARGE', error: 'Payload Too Large' })
    expect(res.json().message).toContain('2048')
    expect((await publish(api, cdevent())).statusCode).toBe(202)
  })

  it('bounds a batch to MAX_BATCH_ITEMS and refuses an empty one', async () => {
    const api = await startApi({ bodyLimit: 16 * 1024 * 1024 })
    const tooMany = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => cdevent(`e${i}`))
    const res = await publish(api, tooMany)
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('CDG_INVALID_REQUEST')
    const empty = await publish(api, [], CE_BATCH_TYPE)
    expect(empty.statusCode).toBe(400)
    expect(api.node.calls.publish).toHaveLength(0)
  })

  it('refuses JSON that does not parse, or no body, with 400', async () => {
    const api = await startApi()
    const broken = await publish(api, '{"context": ')
    expect(broken.statusCode).toBe(400)
    expect(broken.json().code).toBe('CDG_INVALID_REQUEST')
    const empty = await publish(api, '')
    expect(empty.statusCode).toBe(400)
    expect(empty.json().code).toBe('CDG_INVALID_REQUEST')
    const scalar = await publish(api, '42')
    expect(scalar.statusCode).toBe(400)
  })
})

describe('POST /v1/events errors from the node', () => {
  it('passes schema violations through with 400 CDG_INVALID_EVENT', async () => {
    const api = await startApi()
    const res = await publish(api, { context: { id: 'x' } })
    expect(res.statusCode).toBe(400)
    const body = res.json()
    expect(body).toMatchObject({ statusCode: 400, code: 'CDG_INVALID_EVENT', error: 'Bad Request' })
    expect(body.violations).toContainEqual({ path: '/subject', message: 'must have required property subject' })

    api.node.failWith = new InvalidEventError('not a CDEvent', [{ path: '/subject/content/url', message: 'must be string' }])
    const real = await publish(api, cdevent())
    expect(real.json()).toEqual({
      statusCode: 400,
      code: 'CDG_INVALID_EVENT',
      error: 'Bad Request',
      message: 'not a CDEvent',
      violations: [{ path: '/subject/content/url', message: 'must be string' }]
    })
  })

  it('maps spec version, CloudEvent mismatch and conflict to 400, 422 and 409', async () => {
    const api = await startApi()
    const old = await publish(api, cdevent('o', { specversion: '0.4.1' }))
    expect([old.statusCode, old.json().code]).toEqual([400, 'CDG_UNSUPPORTED_SPEC_VERSION'])

    const mismatch = await publish(api, structured(cdevent(), { source: 'https://elsewhere.example.org' }), CE_TYPE)
    expect([mismatch.statusCode, mismatch.json().code]).toEqual([422, 'CDG_INVALID_CLOUDEVENT'])
    expect(mismatch.json().mismatches).toEqual([
      { attribute: 'source', expected: 'https://ci.example.org/jobs/build', actual: 'https://elsewhere.example.org' }
    ])

    await publish(api, cdevent())
    const changed = cdevent()
    changed.subject.content.outcome = 'failure'
    const conflict = await publish(api, changed)
    expect([conflict.statusCode, conflict.json().code]).toEqual([409, 'CDG_CONFLICTING_EVENT'])
  })

  it('maps an untrusted signer to 403, not started to 503, timeout to 504', async () => {
    const api = await startApi()
    const cases: Array<[Error, number, string]> = [
      [new UntrustedSignerError('source not allowed', { reason: 'source-not-allowed', origin: 'p', source: 's', eventClass: 'c' }), 403, 'CDG_UNTRUSTED_SIGNER'],
      [new NotStartedError('node'), 503, 'CDG_NOT_STARTED'],
      [new CdgossipError('CDG_TIMEOUT', 'took too long'), 504, 'CDG_TIMEOUT'],
      [new CdgossipError('CDG_STORE', 'disk full'), 500, 'CDG_STORE']
    ]
    for (const [err, status, code] of cases) {
      api.node.failWith = err
      const res = await publish(api, cdevent())
      expect(res.statusCode, code).toBe(status)
      expect(res.json()).toMatchObject({ statusCode: status, code, message: err.message })
    }
  })

  it('answers a bug with 500 CDG_INTERNAL and no internals', async () => {
    const api = await startApi()
    api.node.failWith = new TypeError('cannot read properties of undefined (secret internals)')
    const res = await publish(api, cdevent())
    expect(res.statusCode).toBe(500)
    expect(res.json()).toEqual({ statusCode: 500, code: 'CDG_INTERNAL', error: 'Internal Server Error', message: 'internal server error' })
  })
})
