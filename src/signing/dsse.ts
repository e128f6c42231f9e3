import { decodeBase64, decodeBase64Dsse, encodeBase64 } from './base64.js'
import { BadSignatureError } from './errors.js'

/** The payload type that names version 0.1 of the CloudEvents Verifiability extension. */
export const DSSE_PAYLOAD_TYPE = 'https://cloudevents.io/verifiability/dsse/v0.1'

/**
 * Bounds on material from outside. A cdgossip envelope is ~300 characters; 64 KiB leaves room
 * for other producers' longer keyids (certificate fingerprints, URLs) and a few signatures.
 */
export const MAX_DSSEMATERIAL_CHARS = 64 * 1024
export const MAX_DSSE_SIGNATURES = 16

export interface DsseSignature {
  keyid?: string
  /** the raw signature bytes (decoded from the envelope's base64) */
  sig: Uint8Array
}

export interface DsseEnvelope {
  payloadType: string
  /** the raw payload bytes (decoded from the envelope's base64) */
  payload: Uint8Array
  signatures: DsseSignature[]
}

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * DSSE v1 pre-authentication encoding:
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal bytes.
 * This, never the payload alone, is what gets signed (DSSE protocol.md).
 */
export function pae (payloadType: string, payload: Uint8Array): Uint8Array {
  const head = paeHead(payloadType, payload.byteLength)
  // from Node's Buffer pool when small (every record's is 80 bytes): no native allocation per call
  const out = Buffer.allocUnsafe(head.byteLength + payload.byteLength)
  out.set(head, 0)
  out.set(payload, head.byteLength)
  return out
}

/**
 * Everything before the body, per payload type and length: a record's is the same every time
 * (one type, a 32-byte payload). Bounded: types from outside only refill it.
 */
const paeHeads = new Map<string, Uint8Array>()
const MAX_PAE_HEADS = 64

function paeHead (payloadType: string, length: number): Uint8Array {
  const key = `${length} ${payloadType}`
  let head = paeHeads.get(key)
  if (head === undefined) {
    const type = encoder.encode(payloadType)
    head = encoder.encode(`DSSEv1 ${type.byteLength} ${payloadType} ${length} `)
    if (payloadType.length <= 256) {
      if (paeHeads.size >= MAX_PAE_HEADS) paeHeads.clear()
      paeHeads.set(key, head)
    }
  }
  return head
}

/**
 * The envelope JSON in the member order of the extension's examples and test vectors:
 * payloadType, payload, signatures[{keyid, sig}]. cdgossip writes exactly this, so a record's
 * envelope has one spelling (see decodeDsseMaterial's `canonical`).
 */
export function encodeDsseEnvelope (envelope: DsseEnvelope): string {
  const signatures = envelope.signatures.map(s =>
    s.keyid === undefined
      ? `{"sig":${JSON.stringify(encodeBase64(s.sig))}}`
      : `{"keyid":${JSON.stringify(s.keyid)},"sig":${JSON.stringify(encodeBase64(s.sig))}}`)
  return `{"payloadType":${JSON.stringify(envelope.payloadType)},"payload":${JSON.stringify(encodeBase64(envelope.payload))},"signatures":[${signatures.join(',')}]}`
}

/** The `dssematerial` attribute value for an envelope: base64 of the UTF-8 envelope JSON. */
export function encodeDsseMaterial (envelope: DsseEnvelope): string {
  return encodeBase64(encoder.encode(encodeDsseEnvelope(envelope)))
}

export interface DecodeDsseOptions {
  /**
   * Refuse anything but the exact bytes encodeDsseEnvelope writes (used for wire records, whose
   * digest must not change while the signed content stays the same).
   * @default false
   */
  canonical?: boolean
  /** `dssematerial` already decoded by a caller that checked its base64 (saves decoding it twice) */
  decoded?: Uint8Array
}

/**
 * Decode a `dssematerial` value (base64 of a DSSE JSON envelope) into its parts. Throws
 * BadSignatureError with reason `missing-material`, `bad-base64` or `bad-envelope`. Does not
 * check the payload type or any signature.
 */
export function decodeDsseMaterial (dssematerial: string | undefined, options: DecodeDsseOptions = {}): DsseEnvelope {
  if (dssematerial === undefined || dssematerial === '') {
    throw new BadSignatureError('missing-material', 'the event carries no dssematerial: it is not signed')
  }
  if (dssematerial.length > MAX_DSSEMATERIAL_CHARS) {
    throw new BadSignatureError('bad-envelope', `dssematerial is longer than ${MAX_DSSEMATERIAL_CHARS} characters`)
  }
  const bytes = options.decoded ?? decodeBase64(dssematerial)
  if (bytes === undefined) throw new BadSignatureError('bad-base64', 'dssematerial is not standard base64')

  let text: string
  let value: unknown
  try {
    text = strictDecoder.decode(bytes)
    if (options.canonical === true) {
      const envelope = canonicalEnvelope(text)
      if (envelope !== undefined) return envelope
    }
    value = JSON.parse(text)
  } catch (err) {
    throw new BadSignatureError('bad-envelope', 'dssematerial does not decode to a UTF-8 JSON document', { cause: err })
  }
  const envelope = toEnvelope(value)
  if (options.canonical === true && encodeDsseEnvelope(envelope) !== text) {
    throw new BadSignatureError('bad-envelope', 'dssematerial is not in the canonical envelope encoding')
  }
  return envelope
}

/**
 * The one envelope a cdgossip record carries, as encodeDsseEnvelope writes it: payloadType and
 * keyid in plain printable ASCII (JSON writes them without escapes), payload and sig in canonical
 * padded standard base64. Every record a node receives has this form, and matching it directly
 * skips the JSON parse and the re-encoding that prove a document canonical the general way.
 */
const CANONICAL_ENVELOPE = /^\{"payloadType":"([\x20\x21\x23-\x5b\x5d-\x7e]*)","payload":"([A-Za-z0-9+/]*={0,2})","signatures":\[\{"keyid":"([\x20\x21\x23-\x5b\x5d-\x7e]*)","sig":"([A-Za-z0-9+/]*={0,2})"\}\]\}$/

/**
 * The envelope of a canonical text of that form, or `undefined` for anything else, which the
 * general path then decodes or refuses with its own reasons; on every text this accepts, the
 * general path would give the same envelope (BENCHMARKS.md, round 21).
 */
function canonicalEnvelope (text: string): DsseEnvelope | undefined {
  const match = CANONICAL_ENVELOPE.exec(text)
  if (match === null) return undefined
  const [, payloadType, payloadText, keyid, sigText] = match as unknown as [string, string, string, string, string]
  const payload = decodeBase64(payloadText)
  const sig = decodeBase64(sigText)
  if (payload === undefined || sig === undefined) return undefined
  return { payloadType, payload, signatures: [{ keyid, sig }] }
}

function toEnvelope (value: unknown): DsseEnvelope {
  if (!isPlainObject(value)) throw new BadSignatureError('bad-envelope', 'the DSSE envelope is not a JSON object')
  const { payloadType, payload, signatures } = value
  if (typeof payloadType !== 'string') throw new BadSignatureError('bad-envelope', 'the DSSE envelope has no string payloadType')
  if (typeof payload !== 'string') throw new BadSignatureError('bad-envelope', 'the DSSE envelope has no string payload')
  const payloadBytes = decodeBase64Dsse(payload)
  if (payloadBytes === undefined) throw new BadSignatureError('bad-envelope', 'the DSSE envelope payload is not base64')
  if (!Array.isArray(signatures) || signatures.length === 0) throw new BadSignatureError('bad-envelope', 'the DSSE envelope has no signatures')
  if (signatures.length > MAX_DSSE_SIGNATURES) throw new BadSignatureError('bad-envelope', `the DSSE envelope has more than ${MAX_DSSE_SIGNATURES} signatures`)
  return {
    payloadType,
    payload: payloadBytes,
    signatures: signatures.map((s: unknown, i) => {
      if (!isPlainObject(s)) throw new BadSignatureError('bad-envelope', `DSSE signature ${i} is not an object`)
      if (s.keyid !== undefined && typeof s.keyid !== 'string') throw new BadSignatureError('bad-envelope', `DSSE signature ${i} has a non-string keyid`)
      if (typeof s.sig !== 'string') throw new BadSignatureError('bad-envelope', `DSSE signature ${i} has no string sig`)
      const sig = decodeBase64Dsse(s.sig)
      if (sig === undefined) throw new BadSignatureError('bad-envelope', `DSSE signature ${i} is not base64`)
      return s.keyid === undefined ? { sig } : { keyid: s.keyid, sig }
    })
  }
}

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
