import type { CDEvent, SignedEvent } from '../../src/events/types.js'
import type { StoredEvent } from '../../src/events/records.js'
import { recordOf } from '../store/fixtures.js'

/**
 * Records with the store's shape from whole CDEvents (links, customData and all), each with the
 * next sequence; not really signed: the store and the trace never verify.
 */
let sequence = 0

export function signedFrom (cdevent: CDEvent, origin: string): SignedEvent {
  sequence++
  return recordOf(cdevent, origin, sequence)
}

export function storedFrom (cdevent: CDEvent, origin: string): StoredEvent {
  return { event: signedFrom(cdevent, origin), cursor: '1', receivedAt: new Date(0).toISOString(), trusted: true }
}
