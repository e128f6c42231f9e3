import { InvalidCloudEventError, InvalidEventError } from './errors.js'
import type { CloudEventMismatch } from './errors.js'
import { truncatesTo } from './rfc3339.js'
import type { CDEvent, CloudEventAttributes } from './types.js'

export const CLOUDEVENTS_SPEC_VERSION = '1.0'
export const CDEVENT_DATA_CONTENT_TYPE = 'application/json'

/** CloudEvents attributes every event must carry. */
const REQUIRED_ATTRIBUTES = ['specversion', 'id', 'source', 'type'] as const

/** Attribute values echoed into error details are cut to this length (they are untrusted). */
const MAX_ECHOED_LENGTH = 256

/**
 * The CloudEvent context attributes of a CDEvent, per the CDEvents CloudEvents binding:
 * id/source/type mirror the context, subject is subject.id, time is context.timestamp and the
 * data (the whole CDEvent) is JSON.
 */
export function toCloudEventAttributes (cdevent: CDEvent): CloudEventAttributes {
  return {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: cdevent.context.id,
    source: cdevent.context.source,
    type: cdevent.context.type,
    subject: cdevent.subject.id,
    time: cdevent.context.timestamp,
    datacontenttype: CDEVENT_DATA_CONTENT_TYPE
  }
}

function echo (value: unknown): unknown {
  if (typeof value === 'string' && value.length > MAX_ECHOED_LENGTH) return `${value.slice(0, MAX_ECHOED_LENGTH)}…`
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? '[array]' : '[object]'
  return value
}

function isJsonMediaType (value: string): boolean {
  return (value.split(';')[0] ?? '').trim().toLowerCase() === CDEVENT_DATA_CONTENT_TYPE
}

/**
 * Checks CloudEvent attributes received alongside a (validated) CDEvent: the required attributes
 * are there, specversion is 1.0, and id/source/type/subject/time agree with the CDEvent.
 * `subject`, `time` and `datacontenttype` may be absent; when present they must agree
 * (datacontenttype must be application/json, parameters allowed). `time` agrees when it is the
 * CDEvent's timestamp truncated to `time`'s own precision, in any offset (see truncatesTo):
 * CloudEvents SDKs keep fewer sub-second digits than producers write (the JavaScript SDK keeps
 * milliseconds), and the attribute's own precision says how much it claims. Throws
 * InvalidCloudEventError listing every mismatch.
 */
export function checkCloudEventConsistency (attrs: Record<string, unknown>, cdevent: CDEvent): void {
  const mismatches: CloudEventMismatch[] = []
  const expected: Record<(typeof REQUIRED_ATTRIBUTES)[number], string> = {
    specversion: CLOUDEVENTS_SPEC_VERSION,
    id: cdevent.context.id,
    source: cdevent.context.source,
    type: cdevent.context.type
  }
  for (const attribute of REQUIRED_ATTRIBUTES) {
    const value = attrs[attribute]
    if (value !== expected[attribute]) mismatches.push({ attribute, cloudEvent: echo(value), cdevent: expected[attribute] })
  }
  if (attrs.subject !== undefined && attrs.subject !== cdevent.subject.id) {
    mismatches.push({ attribute: 'subject', cloudEvent: echo(attrs.subject), cdevent: cdevent.subject.id })
  }
  if (attrs.time !== undefined && (typeof attrs.time !== 'string' || !truncatesTo(attrs.time, cdevent.context.timestamp))) {
    mismatches.push({ attribute: 'time', cloudEvent: echo(attrs.time), cdevent: cdevent.context.timestamp })
  }
  const contentType = attrs.datacontenttype
  if (contentType !== undefined && (typeof contentType !== 'string' || !isJsonMediaType(contentType))) {
    mismatches.push({ attribute: 'datacontenttype', cloudEvent: echo(contentType), cdevent: CDEVENT_DATA_CONTENT_TYPE })
  }
  if (mismatches.length > 0) {
    const names = mismatches.map(m => m.attribute).join(', ')
    throw new InvalidCloudEventError(`CloudEvent attributes disagree with the CDEvent or are missing: ${names}`, mismatches)
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * The CloudEvent data bytes for a CDEvent, i.e. the bytes that get signed: UTF-8 of
 * `JSON.stringify(cdevent)`, compact, keys in the order the value has them.
 *
 * Why this form: for any value that came out of JSON.parse, JSON.stringify is idempotent
 * (stringify(parse(stringify(v))) === stringify(v)), so a JS producer that re-encodes a decoded
 * event gets the same bytes and the same signature input, with no canonicalisation library.
 * Verification never depends on it though: the wire format carries the data bytes verbatim and
 * nodes store and forward exactly what was signed.
 */
export function encodeCDEventData (cdevent: CDEvent): Uint8Array {
  // from Node's Buffer pool when small: signing copies what it keeps (signCloudEvent)
  return Buffer.from(JSON.stringify(cdevent), 'utf8')
}

/**
 * Parses CloudEvent data bytes as JSON. Invalid UTF-8 (including a byte order mark, which the
 * encoder never writes) and invalid JSON are InvalidEventError. The result still has to go
 * through validateCDEvent.
 */
export function decodeCDEventData (bytes: Uint8Array): unknown {
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch (err) {
    throw new InvalidEventError('CDEvent data is not valid UTF-8', [{ path: '', message: 'data must be UTF-8 text' }], { cause: err })
  }
  if (text.charCodeAt(0) === 0xfeff) {
    throw new InvalidEventError('CDEvent data starts with a byte order mark', [{ path: '', message: 'data must be JSON without a byte order mark' }])
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new InvalidEventError('CDEvent data is not valid JSON', [{ path: '', message: `data must be JSON: ${(err as Error).message}` }], { cause: err })
  }
}
