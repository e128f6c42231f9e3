import { describe, it, expect } from 'vitest'
import { binaryModeAttributes, parsePublishRequest, structuredModeItem } from '../../src/api/cloudevents-http.js'
import { toEventView } from '../../src/store/index.js'
import { FakeNode, cdevent, structured } from './fake-node.js'

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

describe('toEventView', () => {
  it('shows a stored event with its record parsed', () => {
    const stored = new FakeNode().storeRemote(cdevent('v'), false)
    const view = toEventView(stored)
    expect(view).toMatchObject({ cursor: stored.cursor, digest: stored.event.digest, class: 'pipelinerun.finished', sequence: 1, trusted: false })
    expect(view.cloudEvent).toMatchObject({ id: 'v', sequence: '1' })
    expect(view.cdevent).toBe(stored.event.cdevent)
  })
})
