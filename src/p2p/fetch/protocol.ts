/**
 * The `/cdgossip/<network>/fetch/1.0.0` wire format: one request per stream, asking for the
 * records a peer holds that match a bounded list of references; the answer is sync's (the same
 * length-prefixed frames, sync/protocol.ts): RECORD frames with the signed records verbatim, then
 * END {"count","truncated"}, or ERROR {"reason":"busy"|"invalid"}.
 *
 *   client → server  FETCH_REQUEST {"refs":[…]}, each ref one of
 *                      {"kind":"context","id":<context id>[,"source":<context source>]}
 *                      {"kind":"entity","type":<subject type>,"id":<subject id>[,"referrers":true]}
 *                      {"kind":"chain","id":<chainId>}
 *
 * Control messages are decoded strictly (exact key sets, bounded strings), as in sync.
 */
import { exactObject, MAX_CONTROL_FRAME_BYTES } from '../sync/protocol.js'
import { SyncProtocolError } from '../sync/errors.js'
import type { TraceRef } from '../../contracts/trace.js'

/** The protocol of one network: peers of another network never ask or answer. */
export function fetchProtocol (network: string): string {
  return `/cdgossip/${network}/fetch/1.0.0`
}

/** Frame kind of a fetch request; the response kinds are sync's. */
export const FETCH_REQUEST_KIND = 0x03

/** Most references in one request: a trace round asks for at most this many unresolved nodes. */
export const MAX_FETCH_REFS = 64
/** Longest id, source or type in a reference: CDEvents ids and purls are short; this only bounds hostile input. */
export const MAX_REF_FIELD_LENGTH = 1024
/** Most records in one answer: a reference names one event, a chain or an entity a few dozen. */
export const MAX_FETCH_RECORDS = 256
/** Record bytes in one answer, however many records: a requester never holds more. */
export const MAX_FETCH_RESPONSE_BYTES = 4 * 1024 * 1024
/** Records one entity or chain reference contributes to an answer, so one popular entity cannot fill it. */
export const MAX_RECORDS_PER_REF = 32

/** What a requester wants: an event by context id (and source), an entity's events, or a chain's events. */
export type FetchRef = TraceRef

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

export function encodeFetchRequest (refs: readonly FetchRef[]): Uint8Array {
  const json = textEncoder.encode(JSON.stringify({ refs }))
  const frame = new Uint8Array(json.byteLength + 1)
  frame[0] = FETCH_REQUEST_KIND
  frame.set(json, 1)
  return frame
}

export function decodeFetchRequest (frame: Uint8Array): FetchRef[] {
  if (frame[0] !== FETCH_REQUEST_KIND) throw new SyncProtocolError('unexpected frame kind for a fetch request', { kind: frame[0] })
  if (frame.byteLength > MAX_CONTROL_FRAME_BYTES) throw new SyncProtocolError('fetch request above MAX_CONTROL_FRAME_BYTES')
  let body: unknown
  try {
    body = JSON.parse(textDecoder.decode(frame.subarray(1)))
  } catch (err) {
    throw new SyncProtocolError('fetch request is not UTF-8 JSON', undefined, err)
  }
  const { refs } = exactObject(body, ['refs'])
  if (!Array.isArray(refs) || refs.length === 0 || refs.length > MAX_FETCH_REFS) {
    throw new SyncProtocolError(`fetch request: refs must be an array of 1 to ${MAX_FETCH_REFS}`)
  }
  return refs.map(fetchRefOf)
}

/** Checks one reference, from the wire or from a caller; throws SyncProtocolError. */
export function fetchRefOf (value: unknown): FetchRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyncProtocolError('fetch ref: expected a JSON object')
  const kind = (value as Record<string, unknown>).kind
  switch (kind) {
    case 'context': {
      const hasSource = Object.hasOwn(value, 'source')
      const r = exactObject(value, hasSource ? ['kind', 'id', 'source'] : ['kind', 'id'])
      return { kind, id: field(r.id), ...(hasSource ? { source: field(r.source) } : {}) }
    }
    case 'entity': {
      const referrers = Object.hasOwn(value, 'referrers')
      const r = exactObject(value, referrers ? ['kind', 'type', 'id', 'referrers'] : ['kind', 'type', 'id'])
      if (referrers && r.referrers !== true) throw new SyncProtocolError('fetch ref: referrers is true when present')
      return { kind, type: field(r.type), id: field(r.id), ...(referrers ? { referrers: true as const } : {}) }
    }
    case 'chain': {
      const r = exactObject(value, ['kind', 'id'])
      return { kind, id: field(r.id) }
    }
    default:
      throw new SyncProtocolError('fetch ref: unknown kind')
  }
}

function field (value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_REF_FIELD_LENGTH) {
    throw new SyncProtocolError(`fetch ref: fields are strings of 1 to ${MAX_REF_FIELD_LENGTH} characters`)
  }
  return value
}
