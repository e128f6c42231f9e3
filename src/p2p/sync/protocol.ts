/**
 * The `/cdgossip/sync/1.0.0` wire format, as pure functions over frame payloads (no streams here:
 * see stream-adapter.ts). One request per stream, each message one length-prefixed frame whose first
 * byte names its kind:
 *
 *   client → server  SUMMARY_REQUEST {"classes":[…]}
 *                    RANGE_REQUEST   {"origin","eventClass","from","to","limit"}
 *   server → client  SUMMARY        {"entries":[{"origin","eventClass","highest","contiguous"}…]}  (0..n frames)
 *                    RECORD          raw wire bytes of one signed record                              (0..limit frames)
 *                    END             {"count","truncated"}
 *                    ERROR           {"reason":"busy"|"invalid"}
 *
 * Control messages are small JSON objects, decoded strictly (exact key set, bounded strings and
 * integers); records travel verbatim so every node keeps byte-identical, self-verifying records.
 */
import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_RECORD_BYTES } from '../../signing/index.js'
import { SyncProtocolError } from './errors.js'
import type { EventClass } from '../../events/types.js'

/** The largest signed record is signing's limit, the same for publish, gossip and sync (P2P-NOTES). */
export { MAX_RECORD_BYTES }

export const SYNC_PROTOCOL = '/cdgossip/sync/1.0.0'

/** Most records in one range response: bounds the time and work one request may cost either side. */
export const PAGE_SIZE = 500

/** Most event classes in one summary request (there are 45 standard classes; custom ones add a few). */
export const MAX_SUMMARY_CLASSES = 128

/** Most (origin, class) entries a client accepts in one summary: bounds memory against a lying peer. */
export const MAX_SUMMARY_ENTRIES = 10_000

/** Entries per SUMMARY frame, so a frame stays far below MAX_CONTROL_FRAME_BYTES. */
export const SUMMARY_CHUNK_ENTRIES = 128

/** Largest control frame (requests, summary chunks, end, error). */
export const MAX_CONTROL_FRAME_BYTES = 64 * 1024

/** Largest frame of any kind: a record plus its kind byte. */
export const MAX_FRAME_BYTES = MAX_RECORD_BYTES + 1

export const MAX_ORIGIN_LENGTH = 128
export const MAX_CLASS_LENGTH = 128

/** Peer IDs in their text forms (base58btc or base32 CID): alphanumerics only. */
const ORIGIN_PATTERN = /^[A-Za-z0-9]+$/
/** Event classes: `pipelinerun.finished`, `x.mytool-resource.created`. */
const CLASS_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

export const FRAME_KIND = {
  summaryRequest: 0x01,
  rangeRequest: 0x02,
  summary: 0x11,
  record: 0x12,
  end: 0x13,
  error: 0x14
} as const

export interface SummaryRequest {
  type: 'summary'
  classes: EventClass[]
}

export interface RangeRequest {
  type: 'range'
  origin: string
  eventClass: EventClass
  /** first sequence wanted, >= 1 */
  from: number
  /** last sequence wanted, >= from */
  to: number
  /** most records to answer, 1..PAGE_SIZE */
  limit: number
}

export type SyncRequest = SummaryRequest | RangeRequest

/** What a peer holds of one (origin, class) sequence; the same shape as the store's SequenceState. */
export interface SummaryEntry {
  origin: string
  eventClass: EventClass
  highest: number
  contiguous: number
}

export type RefusalReason = 'busy' | 'invalid'

export type ResponseFrame =
  | { type: 'summary', entries: SummaryEntry[] }
  | { type: 'record', bytes: Uint8Array }
  | { type: 'end', count: number, truncated: boolean }
  | { type: 'error', reason: RefusalReason }

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

function controlFrame (kind: number, body: unknown): Uint8Array {
  const json = textEncoder.encode(JSON.stringify(body))
  const frame = new Uint8Array(json.byteLength + 1)
  frame[0] = kind
  frame.set(json, 1)
  return frame
}

export function encodeRequest (request: SyncRequest): Uint8Array {
  if (request.type === 'summary') {
    return controlFrame(FRAME_KIND.summaryRequest, { classes: request.classes })
  }
  const { origin, eventClass, from, to, limit } = request
  return controlFrame(FRAME_KIND.rangeRequest, { origin, eventClass, from, to, limit })
}

export function encodeSummary (entries: SummaryEntry[]): Uint8Array {
  return controlFrame(FRAME_KIND.summary, {
    entries: entries.map(({ origin, eventClass, highest, contiguous }) => ({ origin, eventClass, highest, contiguous }))
  })
}

/** A record frame without copying the record bytes. */
export function encodeRecord (bytes: Uint8Array): Uint8ArrayList {
  return new Uint8ArrayList(Uint8Array.of(FRAME_KIND.record), bytes)
}

export function encodeEnd (count: number, truncated: boolean): Uint8Array {
  return controlFrame(FRAME_KIND.end, { count, truncated })
}

export function encodeError (reason: RefusalReason): Uint8Array {
  return controlFrame(FRAME_KIND.error, { reason })
}

export function decodeRequest (frame: Uint8Array): SyncRequest {
  const kind = frame[0]
  if (kind === FRAME_KIND.summaryRequest) {
    const body = parseControl(frame, ['classes'])
    const classes = body.classes
    if (!Array.isArray(classes) || classes.length > MAX_SUMMARY_CLASSES) {
      throw new SyncProtocolError('summary request: classes must be an array of at most ' + String(MAX_SUMMARY_CLASSES))
    }
    return { type: 'summary', classes: classes.map((c: unknown) => eventClassOf(c)) }
  }
  if (kind === FRAME_KIND.rangeRequest) {
    const body = parseControl(frame, ['origin', 'eventClass', 'from', 'to', 'limit'])
    const from = integer(body.from, 1)
    const to = integer(body.to, from)
    const limit = integer(body.limit, 1)
    if (limit > PAGE_SIZE) throw new SyncProtocolError(`range request: limit above ${PAGE_SIZE}`)
    return { type: 'range', origin: originOf(body.origin), eventClass: eventClassOf(body.eventClass), from, to, limit }
  }
  throw new SyncProtocolError('unexpected frame kind for a request', { kind })
}

export function decodeResponseFrame (frame: Uint8Array): ResponseFrame {
  const kind = frame[0]
  switch (kind) {
    case FRAME_KIND.record: {
      if (frame.byteLength < 2) throw new SyncProtocolError('empty record frame')
      if (frame.byteLength - 1 > MAX_RECORD_BYTES) throw new SyncProtocolError('record above MAX_RECORD_BYTES')
      // a copy: receiveRecord may keep the bytes, and the frame may view a transport buffer
      return { type: 'record', bytes: frame.slice(1) }
    }
    case FRAME_KIND.summary: {
      const body = parseControl(frame, ['entries'])
      const entries = body.entries
      if (!Array.isArray(entries) || entries.length > SUMMARY_CHUNK_ENTRIES) {
        throw new SyncProtocolError(`summary: entries must be an array of at most ${SUMMARY_CHUNK_ENTRIES}`)
      }
      return { type: 'summary', entries: entries.map((e: unknown) => summaryEntryOf(e)) }
    }
    case FRAME_KIND.end: {
      const body = parseControl(frame, ['count', 'truncated'])
      if (typeof body.truncated !== 'boolean') throw new SyncProtocolError('end: truncated must be a boolean')
      return { type: 'end', count: integer(body.count, 0), truncated: body.truncated }
    }
    case FRAME_KIND.error: {
      const body = parseControl(frame, ['reason'])
      if (body.reason !== 'busy' && body.reason !== 'invalid') throw new SyncProtocolError('error: unknown reason')
      return { type: 'error', reason: body.reason }
    }
    default:
      throw new SyncProtocolError('unexpected frame kind for a response', { kind })
  }
}

function parseControl (frame: Uint8Array, keys: string[]): Record<string, unknown> {
  if (frame.byteLength > MAX_CONTROL_FRAME_BYTES) throw new SyncProtocolError('control frame above MAX_CONTROL_FRAME_BYTES')
  let body: unknown
  try {
    body = JSON.parse(textDecoder.decode(frame.subarray(1)))
  } catch (err) {
    throw new SyncProtocolError('control frame is not UTF-8 JSON', undefined, err)
  }
  return exactObject(body, keys)
}

export function exactObject (value: unknown, keys: string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SyncProtocolError('expected a JSON object')
  }
  const record = value as Record<string, unknown>
  const actual = Object.keys(record)
  if (actual.length !== keys.length || !keys.every(k => Object.hasOwn(record, k))) {
    throw new SyncProtocolError('unexpected message fields', { expected: keys })
  }
  return record
}

function integer (value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new SyncProtocolError(`expected an integer >= ${min}`)
  }
  return value
}

function originOf (value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ORIGIN_LENGTH || !ORIGIN_PATTERN.test(value)) {
    throw new SyncProtocolError('invalid origin')
  }
  return value
}

function eventClassOf (value: unknown): EventClass {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CLASS_LENGTH || !CLASS_PATTERN.test(value)) {
    throw new SyncProtocolError('invalid event class')
  }
  return value
}

function summaryEntryOf (value: unknown): SummaryEntry {
  const body = exactObject(value, ['origin', 'eventClass', 'highest', 'contiguous'])
  const highest = integer(body.highest, 1)
  const contiguous = integer(body.contiguous, 0)
  if (contiguous > highest) throw new SyncProtocolError('summary: contiguous above highest')
  return { origin: originOf(body.origin), eventClass: eventClassOf(body.eventClass), highest, contiguous }
}

/** Whether a value is acceptable as an origin or class on the wire; servers skip entries that are not. */
export function isWireOrigin (value: string): boolean {
  return value.length > 0 && value.length <= MAX_ORIGIN_LENGTH && ORIGIN_PATTERN.test(value)
}

export function isWireClass (value: string): boolean {
  return value.length > 0 && value.length <= MAX_CLASS_LENGTH && CLASS_PATTERN.test(value)
}
