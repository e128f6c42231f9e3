import type { CDEvent, EventClass } from './types.js'
import type { StoredEvent } from './records.js'

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
  /** the signer's key was revoked by its community after this record arrived */
  signerRevoked?: { since: string }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })
const LF = 0x0a
const CR = 0x0d

/**
 * Pure: the view of a stored event as JSON text, the members in EventView's order. Nothing is
 * parsed to be serialized again: `cloudEvent` is the wire record's text, which is exactly what
 * JSON.stringify writes for it (a record has one canonical spelling), and `cdevent` is the signed
 * data's text, JSON checked on the way in. Text spread over several lines (only a foreign producer
 * writes data so) goes through JSON.stringify instead, so a view is always one line (an SSE
 * `data:` line). A page of 100 views costs a parse and two serializations less per record.
 */
export function eventViewJson (stored: StoredEvent): string {
  const { event } = stored
  return `{"cursor":${JSON.stringify(stored.cursor)},"digest":${JSON.stringify(event.digest)},` +
    `"origin":${JSON.stringify(event.origin)},"class":${JSON.stringify(event.eventClass)},"sequence":${event.sequence},` +
    `"trusted":${stored.trusted},"receivedAt":${JSON.stringify(stored.receivedAt)},` +
    `"cloudEvent":${oneLineJson(event.bytes, () => JSON.parse(UTF8.decode(event.bytes)))},` +
    `"cdevent":${oneLineJson(event.data, () => event.cdevent)}` +
    (stored.signerRevoked === undefined ? '}' : `,"signerRevoked":{"since":${JSON.stringify(stored.signerRevoked.since)}}}`)
}

/** `bytes` (JSON text) as they are when they fit on one line, else the value they hold, serialized. */
function oneLineJson (bytes: Uint8Array, value: () => unknown): string {
  return bytes.includes(LF) || bytes.includes(CR) ? JSON.stringify(value()) : UTF8.decode(bytes)
}
