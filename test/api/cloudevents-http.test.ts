import { describe, it, expect } from 'vitest'
import { binaryModeAttributes, parsePublishRequest, structuredModeItem } from '../../src/api/cloudevents-http.js'
import { eventViewJson } from '../../src/store/index.js'
import { FakeNode, cdevent, structured } from './fake-node.js'
import type { StoredEvent } from '../../src/store/index.js'

describe('CloudEvents HTTP binding', () => {
  it('percent-decodes ce- headers as UTF-8 and leaves + alone', () => {
    expect(binaryModeAttributes({
      'ce-specversion': '1.0',
      'ce-id': '%E2%82%AC%20100%25',
      'ce-source': 'urn:a+b',
      'content-type': 'application/json; charset=utf-8',
      authorization: 'Bearer x'
    })).toEqual({ specversion: '1.0', id: '€ 100%', source: 'urn:a+b', datacontenttype: 'application/json' })
  })

  it('refuses malformed percent-encoding with CDG_INVALID_CLOUDEVENT', () => {
    expect(() => binaryModeAttributes({ 'ce-id': '%zz' })).toThrow(expect.objectContaining({ code: 'CDG_INVALID_CLOUDEVENT' }))
    expect(() => binaryModeAttributes({ 'ce-id': '%C3' })).toThrow(expect.objectContaining({ code: 'CDG_INVALID_CLOUDEVENT' }))
  })

  it('splits a structured CloudEvent into attributes and CDEvent', () => {
    const { data: _data, ...attributes } = structured(cdevent())
    expect(structuredModeItem(structured(cdevent()))).toEqual({ cdevent: cdevent(), cloudEventAttributes: attributes })
  })

  it('tells single from batch input', () => {
    expect(parsePublishRequest('application/json', {}, cdevent()).batch).toBe(false)
    expect(parsePublishRequest('application/json', {}, [cdevent()]).batch).toBe(true)
    expect(parsePublishRequest('application/cloudevents+json', {}, structured(cdevent())).batch).toBe(false)
    expect(parsePublishRequest('application/cloudevents-batch+json', {}, [structured(cdevent())]).batch).toBe(true)
    expect(() => parsePublishRequest('text/plain', {}, 'x')).toThrow(expect.objectContaining({ code: 'CDG_UNSUPPORTED_MEDIA_TYPE' }))
    expect(() => parsePublishRequest(undefined, {}, undefined)).toThrow(expect.objectContaining({ code: 'CDG_UNSUPPORTED_MEDIA_TYPE' }))
  })
})

describe('eventViewJson', () => {
  const viewOf = (stored: StoredEvent): Record<string, unknown> => ({
    cursor: stored.cursor,
    digest: stored.event.digest,
    origin: stored.event.origin,
    class: stored.event.eventClass,
    sequence: stored.event.sequence,
    trusted: stored.trusted,
    receivedAt: stored.receivedAt,
    cloudEvent: JSON.parse(Buffer.from(stored.event.bytes).toString('utf8')) as unknown,
    cdevent: stored.event.cdevent
  })

  it('writes a record in its one spelling byte for byte as serializing the parsed view would', () => {
    const stored = new FakeNode().storeRemote(cdevent('v'), false)
    // the fake node writes records spread over lines; a real one is one compact line
    const compact = { ...stored, event: { ...stored.event, bytes: Buffer.from(JSON.stringify(JSON.parse(Buffer.from(stored.event.bytes).toString('utf8')))) } }
    expect(eventViewJson(compact)).toBe(JSON.stringify(viewOf(compact)))
    expect(JSON.parse(eventViewJson(compact))).toMatchObject({ class: 'pipelinerun.finished', sequence: 1, trusted: false, cloudEvent: { id: 'v' } })
  })

  it('keeps the view on one line when the record or its data spans several', () => {
    const stored = new FakeNode().storeRemote(cdevent('w'), true)
    const pretty = Buffer.from(JSON.stringify(stored.event.cdevent, null, 2))
    const spread = { ...stored, event: { ...stored.event, data: new Uint8Array(pretty), cdevent: stored.event.cdevent } }
    expect(Buffer.from(spread.event.bytes).toString('utf8')).toContain('\n')
    const text = eventViewJson(spread)
    expect(text).not.toMatch(/[\r\n]/)
    expect(JSON.parse(text)).toEqual(viewOf(spread))
  })
})
