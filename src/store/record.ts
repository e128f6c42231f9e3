import { CorruptRecordError, UnstorableEventError } from './errors.js'
import { eventTimeMs } from './keys.js'
import type { CDEvent, SignedEvent } from '../events/types.js'
import type { StoredEvent } from './types.js'

/**
 * Stored value layout (binary, big-endian):
 *
 *   u8  format (RECORD_FORMAT)     u8  flags (bit 0: trusted)
 *   f64 arrival counter            f64 receivedAt (epoch ms)
 *   u16 origin length + UTF-8      u16 event class length + UTF-8
 *   ... the record's wire bytes, verbatim
 *
 * Origin and class are the node's own conclusions from verification; keeping them beside the wire
 * bytes lets a read rebuild the SignedEvent without knowing the DSSE envelope format or the
 * CDEvents type table, and without any crypto. Everything else comes from the wire JSON.
 */
export const RECORD_FORMAT = 1
const FIXED_HEADER = 1 + 1 + 8 + 8
const MAX_SHORT_STRING = 0xffff

export interface RecordMeta {
  counter: number
  receivedAtMs: number
  trusted: boolean
}

export function encodeStoredValue (event: SignedEvent, meta: RecordMeta): Uint8Array {
  const originBytes = Buffer.byteLength(event.origin)
  const classBytes = Buffer.byteLength(event.eventClass)
  if (originBytes > MAX_SHORT_STRING || classBytes > MAX_SHORT_STRING) {
    throw new UnstorableEventError('origin or event class too long')
  }
  // from Node's Buffer pool for most records: the batch copies it, so it need not own memory
  const out = Buffer.allocUnsafe(FIXED_HEADER + 2 + originBytes + 2 + classBytes + event.bytes.length)
  let at = out.writeUInt8(RECORD_FORMAT, 0)
  at = out.writeUInt8(meta.trusted ? 1 : 0, at)
  at = out.writeDoubleBE(meta.counter, at)
  at = out.writeDoubleBE(meta.receivedAtMs, at)
  at = out.writeUInt16BE(originBytes, at)
  at += out.write(event.origin, at, 'utf8')
  at = out.writeUInt16BE(classBytes, at)
  at += out.write(event.eventClass, at, 'utf8')
  out.set(event.bytes, at)
  return out
}

function toText (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

type WireAttributes = SignedEvent['attributes']

const REQUIRED_STRING_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'sequence', 'signedextattrs', 'dssematerial'] as const
// the wire form is zero-padded to 16 digits (signing/SEQUENCE_DIGITS); sequences start at 1
const SEQUENCE_RE = /^(?!0+$)[0-9]{1,16}$/

/**
 * Just the record's wire bytes from a stored value (a view, no copy, nothing parsed): what a sync
 * peer is sent. The header is checked as decodeStoredRecord checks it.
 */
export function wireBytesOf (digest: string, value: Uint8Array): Uint8Array {
  const corrupt = (reason: string): CorruptRecordError => new CorruptRecordError(digest, reason)
  if (value.length < FIXED_HEADER + 4) throw corrupt('truncated header')
  if (value[0] !== RECORD_FORMAT) throw corrupt(`unknown record format ${String(value[0])}`)
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  let at = FIXED_HEADER
  at += 2 + view.getUint16(at)
  if (at + 2 > value.length) throw corrupt('truncated origin')
  at += 2 + view.getUint16(at)
  if (at >= value.length) throw corrupt('truncated event class')
  return value.subarray(at)
}

/**
 * Rebuilds a StoredEvent from a stored value. The bytes are local and were verified before they
 * were written, so nothing is re-verified; anything that does not decode fails loudly with
 * CDG_STORE. `cdevent` is parsed on first access only: listing pages and sync reads rarely need it.
 */
export function decodeStoredRecord (digest: string, value: Uint8Array): StoredEvent {
  const corrupt = (reason: string): CorruptRecordError => new CorruptRecordError(digest, reason)
  if (value.length < FIXED_HEADER + 4) throw corrupt('truncated header')
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength)
  let at = 0
  const format = view.getUint8(at); at += 1
  if (format !== RECORD_FORMAT) throw corrupt(`unknown record format ${format}`)
  const flags = view.getUint8(at); at += 1
  const counter = view.getFloat64(at); at += 8
  const receivedAtMs = view.getFloat64(at); at += 8
  const originLength = view.getUint16(at); at += 2
  if (at + originLength + 2 > value.length) throw corrupt('truncated origin')
  const origin = toText(value.subarray(at, at + originLength)); at += originLength
  const classLength = view.getUint16(at); at += 2
  if (at + classLength > value.length) throw corrupt('truncated event class')
  const eventClass = toText(value.subarray(at, at + classLength)); at += classLength
  if (!Number.isSafeInteger(counter) || counter < 1 || !Number.isFinite(receivedAtMs)) throw corrupt('bad local metadata')

  const bytes = value.subarray(at)
  let wire: unknown
  try {
    wire = JSON.parse(toText(bytes))
  } catch {
    throw corrupt('wire bytes are not JSON')
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) throw corrupt('wire JSON is not an object')
  const fields = wire as Record<string, unknown>
  const attributes: Record<string, string> = {}
  let dataBase64: string | undefined
  for (const [name, field] of Object.entries(fields)) {
    if (name === 'data_base64') {
      if (typeof field !== 'string') throw corrupt('data_base64 is not a string')
      dataBase64 = field
    } else if (typeof field === 'string') {
      attributes[name] = field
    } else {
      throw corrupt(`attribute ${name} is not a string`)
    }
  }
  for (const name of REQUIRED_STRING_ATTRIBUTES) {
    if (attributes[name] === undefined) throw corrupt(`missing attribute ${name}`)
  }
  if (dataBase64 === undefined) throw corrupt('missing data_base64')
  const sequenceText = attributes.sequence ?? ''
  if (!SEQUENCE_RE.test(sequenceText)) throw corrupt('bad sequence attribute')
  const sequence = Number(sequenceText)
  if (!Number.isSafeInteger(sequence)) throw corrupt('sequence out of range')
  const dataBuffer = Buffer.from(dataBase64, 'base64')
  const data = new Uint8Array(dataBuffer.buffer, dataBuffer.byteOffset, dataBuffer.byteLength)

  const event = {
    bytes,
    digest,
    attributes: attributes as unknown as WireAttributes,
    data,
    origin,
    sequence,
    eventClass
  } as Omit<SignedEvent, 'cdevent'> as SignedEvent
  let cdevent: CDEvent | undefined
  // An own, enumerable getter: spreading or serialising the event still yields `cdevent`.
  Object.defineProperty(event, 'cdevent', {
    enumerable: true,
    configurable: false,
    get (): CDEvent {
      if (cdevent === undefined) {
        let parsed: unknown
        try {
          parsed = JSON.parse(toText(data))
        } catch {
          throw corrupt('data is not JSON')
        }
        if (typeof parsed !== 'object' || parsed === null) throw corrupt('data is not a CDEvent object')
        cdevent = parsed as CDEvent
      }
      return cdevent
    }
  })

  return {
    event,
    cursor: counter.toString(36),
    receivedAt: new Date(receivedAtMs).toISOString(),
    trusted: (flags & 1) === 1
  }
}

/**
 * What the query path needs to filter a record without reading it: kept as the arrival index's
 * value, so a post-filtered scan touches a few hundred bytes per candidate instead of the record.
 */
export interface RecordFacts {
  digest: string
  origin: string
  eventClass: string
  type: string
  source: string
  subject: string
  chainId: string | undefined
  /** event time (context.timestamp), epoch ms */
  time: number | undefined
  trusted: boolean
  /** when this node stored it, epoch ms; non-decreasing in arrival order */
  receivedAt: number
}

export function factsOf (event: SignedEvent, trusted: boolean, receivedAt: number): RecordFacts {
  const context = event.cdevent.context
  return {
    digest: event.digest,
    origin: event.origin,
    eventClass: event.eventClass,
    type: context.type,
    source: context.source,
    subject: event.cdevent.subject.id,
    chainId: typeof context.chainId === 'string' ? context.chainId : undefined,
    time: eventTimeMs(context.timestamp),
    trusted,
    receivedAt
  }
}

export function encodeFacts (facts: RecordFacts): string {
  return JSON.stringify([facts.digest, facts.origin, facts.eventClass, facts.type, facts.source, facts.subject,
    facts.chainId ?? null, facts.time ?? null, facts.trusted ? 1 : 0, facts.receivedAt])
}

export function decodeFacts (key: string, value: string): RecordFacts {
  let parsed: unknown
  try {
    parsed = JSON.parse(value)
  } catch {
    throw new CorruptRecordError(key, 'arrival entry is not JSON')
  }
  if (!Array.isArray(parsed) || parsed.length !== 10) throw new CorruptRecordError(key, 'arrival entry has the wrong shape')
  const [digest, origin, eventClass, type, source, subject, chainId, time, trusted, receivedAt] = parsed as unknown[]
  if (typeof digest !== 'string' || typeof origin !== 'string' || typeof eventClass !== 'string' ||
    typeof type !== 'string' || typeof source !== 'string' || typeof subject !== 'string' ||
    (chainId !== null && typeof chainId !== 'string') || (time !== null && typeof time !== 'number') ||
    (trusted !== 0 && trusted !== 1) || typeof receivedAt !== 'number') {
    throw new CorruptRecordError(key, 'arrival entry has the wrong shape')
  }
  return {
    digest,
    origin,
    eventClass,
    type,
    source,
    subject,
    chainId: chainId ?? undefined,
    time: time ?? undefined,
    trusted: trusted === 1,
    receivedAt
  }
}
