import type { CDEvent, EventClass } from '../events/types.js'
import type { StoredEvent } from './types.js'

/**
 * One record as clients see it (GET /v1/events, GET /v1/stream, the CLI). `cloudEvent` is the
 * signed wire record parsed as JSON (data in `data_base64`, signature in `dssematerial`), so a
 * client can verify it without asking the node.
 */
export interface EventView {
  cursor: string
  digest: string
  /** the signer's peer ID */
  origin: string
  class: EventClass
  sequence: number
  trusted: boolean
  receivedAt: string
  /** the signed CloudEvent record, parsed (GET /v1/events/:digest has the exact bytes) */
  cloudEvent: Record<string, unknown>
  cdevent: CDEvent
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/** Pure: the view of a stored event. The record bytes were verified on the way in, so they parse. */
export function toEventView (stored: StoredEvent): EventView {
  const { event } = stored
  return {
    cursor: stored.cursor,
    digest: event.digest,
    origin: event.origin,
    class: event.eventClass,
    sequence: event.sequence,
    trusted: stored.trusted,
    receivedAt: stored.receivedAt,
    cloudEvent: JSON.parse(UTF8.decode(event.bytes)) as Record<string, unknown>,
    cdevent: event.cdevent
  }
}
