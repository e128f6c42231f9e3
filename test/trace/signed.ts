import { createHash } from 'node:crypto'
import type { CDEvent, SignedEvent } from '../../src/events/types.js'
import type { StoredEvent } from '../../src/events/records.js'
import { classOf } from '../store/fixtures.js'

/**
 * A record with the store's shape from a whole CDEvent (links, customData and all); like
 * test/store/fixtures.ts's makeEvent, not really signed: the store and the trace never verify.
 */
let sequence = 0

export function signedFrom (cdevent: CDEvent, origin: string): SignedEvent {
  sequence++
  const { id, source, type, timestamp } = cdevent.context
  const data = new TextEncoder().encode(JSON.stringify(cdevent))
  const attributes = {
    specversion: '1.0' as const,
    id,
    source,
    type,
    subject: cdevent.subject.id,
    time: timestamp,
    datacontenttype: 'application/json',
    sequence: String(sequence).padStart(16, '0'),
    signedextattrs: 'sequence',
    dssematerial: Buffer.from(JSON.stringify({ payloadType: 'test', signatures: [{ keyid: origin, sig: 'AA==' }] })).toString('base64')
  }
  const bytes = new TextEncoder().encode(JSON.stringify({ ...attributes, data_base64: Buffer.from(data).toString('base64') }))
  return { bytes, digest: createHash('sha256').update(bytes).digest('hex'), attributes, data, origin, sequence, cdevent, eventClass: classOf(type) }
}

export function storedFrom (cdevent: CDEvent, origin: string): StoredEvent {
  return { event: signedFrom(cdevent, origin), cursor: '1', receivedAt: new Date(0).toISOString(), trusted: true }
}
