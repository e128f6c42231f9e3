import { CloudEvent } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import {
  checkCloudEventConsistency,
  decodeCDEventData,
  encodeCDEventData,
  InvalidCloudEventError,
  sameInstant,
  toCloudEventAttributes,
  validateCDEvent
} from '../../src/events/index.js'
import type { CDEvent, CloudEventMismatch } from '../../src/events/index.js'
import { customEvent, pipelineRunFinished } from './fixtures.js'

function cdevent (): CDEvent {
  return validateCDEvent(pipelineRunFinished()).cdevent
}

function mismatchesOf (attrs: Record<string, unknown>, event: CDEvent): CloudEventMismatch[] {
  try {
    checkCloudEventConsistency(attrs, event)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidCloudEventError)
    expect((err as InvalidCloudEventError).code).toBe('CDG_INVALID_CLOUDEVENT')
    return (err as InvalidCloudEventError).details?.mismatches ?? []
  }
  return []
}

describe('toCloudEventAttributes', () => {
  it('mirrors the CDEvent context per the CDEvents CloudEvents binding', () => {
    const event = cdevent()
    expect(toCloudEventAttributes(event)).toEqual({
      specversion: '1.0',
      id: event.context.id,
      source: '/ci/jenkins/main',
      type: 'dev.cdevents.pipelinerun.finished.0.3.0',
      subject: 'build-42',
      time: '2024-05-01T12:00:00Z',
      datacontenttype: 'application/json'
    })
  })

  it('produces attributes the CloudEvents SDK accepts', () => {
    const event = cdevent()
    const ce = new CloudEvent({ ...toCloudEventAttributes(event), data: event })
    expect(ce.validate()).toBe(true)
  })

  it('is consistent with its own CDEvent', () => {
    for (const event of [cdevent(), validateCDEvent(customEvent()).cdevent]) {
      expect(mismatchesOf({ ...toCloudEventAttributes(event) }, event)).toEqual([])
    }
  })
})

describe('checkCloudEventConsistency', () => {
  it('accepts attributes without the optional subject, time and datacontenttype', () => {
    const event = cdevent()
    const { subject: _s, time: _t, datacontenttype: _d, ...required } = toCloudEventAttributes(event)
    expect(mismatchesOf(required, event)).toEqual([])
  })

  it('compares time as an instant', () => {
    const event = cdevent()
    const attrs = toCloudEventAttributes(event)
    expect(mismatchesOf({ ...attrs, time: '2024-05-01T14:00:00+02:00' }, event)).toEqual([])
    expect(mismatchesOf({ ...attrs, time: '2024-05-01T12:00:00.000Z' }, event)).toEqual([])
    expect(mismatchesOf({ ...attrs, time: '2024-05-01t12:00:00z' }, event)).toEqual([])
    expect(mismatchesOf({ ...attrs, time: '2024-05-01T12:00:00.000001Z' }, event).map(m => m.attribute)).toEqual(['time'])
    expect(mismatchesOf({ ...attrs, time: '2024-05-01T12:00:01Z' }, event).map(m => m.attribute)).toEqual(['time'])
    expect(mismatchesOf({ ...attrs, time: 'yesterday' }, event).map(m => m.attribute)).toEqual(['time'])
    expect(mismatchesOf({ ...attrs, time: 1714564800000 }, event).map(m => m.attribute)).toEqual(['time'])
  })

  it('lists every disagreeing attribute with both values', () => {
    const event = cdevent()
    const mismatches = mismatchesOf({
      specversion: '0.3',
      id: 'other-id',
      source: '/elsewhere',
      type: 'dev.cdevents.pipelinerun.started.0.3.0',
      subject: 'build-43',
      time: '2024-05-01T13:00:00Z',
      datacontenttype: 'text/plain'
    }, event)
    expect(mismatches).toEqual([
      { attribute: 'specversion', cloudEvent: '0.3', cdevent: '1.0' },
      { attribute: 'id', cloudEvent: 'other-id', cdevent: event.context.id },
      { attribute: 'source', cloudEvent: '/elsewhere', cdevent: '/ci/jenkins/main' },
      { attribute: 'type', cloudEvent: 'dev.cdevents.pipelinerun.started.0.3.0', cdevent: 'dev.cdevents.pipelinerun.finished.0.3.0' },
      { attribute: 'subject', cloudEvent: 'build-43', cdevent: 'build-42' },
      { attribute: 'time', cloudEvent: '2024-05-01T13:00:00Z', cdevent: '2024-05-01T12:00:00Z' },
      { attribute: 'datacontenttype', cloudEvent: 'text/plain', cdevent: 'application/json' }
    ])
  })

  it('reports missing required attributes', () => {
    const event = cdevent()
    const mismatches = mismatchesOf({ source: event.context.source }, event)
    expect(mismatches.map(m => [m.attribute, m.cloudEvent])).toEqual([['specversion', undefined], ['id', undefined], ['type', undefined]])
  })

  it('accepts application/json with parameters as datacontenttype', () => {
    const event = cdevent()
    expect(mismatchesOf({ ...toCloudEventAttributes(event), datacontenttype: 'application/json; charset=utf-8' }, event)).toEqual([])
  })

  it('does not echo huge untrusted values into the error details', () => {
    const event = cdevent()
    const [mismatch] = mismatchesOf({ ...toCloudEventAttributes(event), id: 'x'.repeat(100_000) }, event)
    expect(String(mismatch?.cloudEvent).length).toBeLessThan(300)
  })

  it('takes a time that is the timestamp truncated to its own precision, in any offset, and no other', () => {
    const event = cdevent()
    event.context.timestamp = '2023-03-20T14:27:05.315384Z'
    const attributes = toCloudEventAttributes(event)
    for (const time of ['2023-03-20T14:27:05.315384Z', '2023-03-20T14:27:05.315Z', '2023-03-20T14:27:05Z', '2023-03-20T15:27:05.315+01:00']) {
      expect(mismatchesOf({ ...attributes, time }, event), time).toEqual([])
    }
    for (const time of ['2023-03-20T14:27:05.316Z', '2023-03-20T14:27:06Z', '2023-03-20T14:27:05.3153849Z', '2023-03-20 14:27:05.315Z', 1679322425315]) {
      expect(mismatchesOf({ ...attributes, time }, event), String(time)).toEqual([{ attribute: 'time', cloudEvent: time, cdevent: '2023-03-20T14:27:05.315384Z' }])
    }
  })

  it('sameInstant needs two valid RFC 3339 times', () => {
    expect(sameInstant('2024-01-01T00:00:00Z', '2023-12-31T19:00:00-05:00')).toBe(true)
    expect(sameInstant('2024-01-01T00:00:00.5Z', '2024-01-01T00:00:00.500000Z')).toBe(true)
    expect(sameInstant('2024-01-01T00:00:00Z', '2024-01-01T00:00:00')).toBe(false)
  })
})

describe('CDEvent data bytes', () => {
  it('encodes compact JSON in the key order of the value', () => {
    const event = cdevent()
    const text = new TextDecoder().decode(encodeCDEventData(event))
    expect(text).toBe(JSON.stringify(event))
    expect(text.startsWith('{"context":{"specversion":"0.5.1","id":')).toBe(true)
  })

  it('round-trips, and re-encoding a decoded event gives the same bytes', () => {
    const event = validateCDEvent(customEvent()).cdevent
    ;(event.subject.content as Record<string, unknown>).text = 'grüße 🚀 "quoted" \\ \u2028'
    const bytes = encodeCDEventData(event)
    const decoded = decodeCDEventData(bytes)
    expect(decoded).toEqual(event)
    const again = encodeCDEventData(validateCDEvent(decoded).cdevent)
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true)
  })

  it.each([
    ['invalid UTF-8', Uint8Array.from([0x7b, 0xff, 0x7d])],
    ['a truncated UTF-8 sequence', Uint8Array.from([0x22, 0xe2, 0x82, 0x22])],
    ['a byte order mark', new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{}')])],
    ['invalid JSON', new TextEncoder().encode('{"context":')],
    ['empty data', new Uint8Array()]
  ])('refuses %s as CDG_INVALID_EVENT', (_what, bytes) => {
    expect(() => decodeCDEventData(bytes)).toThrow(expect.objectContaining({ code: 'CDG_INVALID_EVENT' }))
  })

  it('decodes any JSON; validation is a separate step', () => {
    expect(decodeCDEventData(new TextEncoder().encode('[1,2]'))).toEqual([1, 2])
  })
})
