import { hash } from 'node:crypto'
import type { CloudEventAttributes, SignedCloudEvent } from '../events/types.js'
import { decodeBase64 } from './base64.js'
import { isPlainObject } from './dsse.js'
import { BadSignatureError, EventTooLargeError, MalformedRecordError } from './errors.js'
import { isWellFormedText } from './material.js'
import { normalizeTime } from './time.js'
import { checkSignedMaterial } from './verify.js'
import type { MaterialCheck } from './verify.js'
import type { SignatureVerifier } from './verify-pool.js'

/**
 * The one size limit for a record's wire bytes: publish refuses above it, gossip validators
 * Reject above it, sync refuses it. A CDEvent is a few KiB at most; 512 KiB leaves room for big
 * customData while staying well under gossipsub's default 1 MiB frame (P2P-NOTES: an oversize
 * frame makes the receiver drop the sender), and it bounds what one message costs to verify
 * and store. Every node must use the same value or they disagree on what is valid.
 */
export const MAX_RECORD_BYTES = 512 * 1024

/**
 * `sequence` travels as a decimal string zero-padded to this width: the CloudEvents Sequence
 * extension asks for a string whose lexicographic order is the sequence order, and 16 digits
 * hold every safe integer.
 */
export const SEQUENCE_DIGITS = 16

/** The only signed extension of a cdgossip record. */
export const SIGNED_EXTENSIONS = 'sequence'

/** Members of a wire record in their fixed order; optional ones are omitted when unset. */
const RECORD_MEMBERS = [
  'specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema',
  'sequence', 'signedextattrs', 'dssematerial', 'data_base64'
] as const
const RECORD_MEMBER_SET: ReadonlySet<string> = new Set(RECORD_MEMBERS)
const REQUIRED_MEMBERS = ['specversion', 'id', 'source', 'type', 'datacontenttype', 'sequence', 'signedextattrs', 'dssematerial', 'data_base64'] as const

/** Every member of a wire record, all strings. */
export interface RecordFields {
  specversion: string
  id: string
  source: string
  type: string
  subject?: string
  time?: string
  datacontenttype: string
  dataschema?: string
  sequence: string
  signedextattrs: string
  dssematerial: string
  data_base64: string
}

/** C0 and C1 controls, which the CloudEvents String type excludes. */
// eslint-disable-next-line no-control-regex -- finding control characters is this pattern's job
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** `,"name":` (or `{"name":` for the first member) for every member, built once. */
const MEMBER_HEADS = new Map(RECORD_MEMBERS.map((name, i) => [name, `${i === 0 ? '{' : ','}${JSON.stringify(name)}:`]))

/**
 * The wire text: a JSON object with the members in RECORD_MEMBERS order and JSON.stringify's
 * escaping. openSignedRecord demands exactly this text (isRecordText), so one record has exactly
 * one byte form (and one digest).
 */
export function encodeRecordText (f: RecordFields): string {
  let s = ''
  for (const name of RECORD_MEMBERS) {
    const value = f[name]
    if (value !== undefined) s += (MEMBER_HEADS.get(name) as string) + JSON.stringify(value)
  }
  return s + '}'
}

/** Characters JSON.stringify may escape in a string (surrogates conservatively: paired ones too). */
// eslint-disable-next-line no-control-regex -- JSON escapes the C0 controls: the pattern must match them
const MAY_NEED_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/**
 * Members whose later checks admit only base64, digits or the word `sequence`: with anything JSON
 * would escape they are refused whatever the canonical check says, so it compares their text as is.
 */
const PLAIN_MEMBERS: ReadonlySet<string> = new Set(['sequence', 'signedextattrs', 'dssematerial', 'data_base64'])

/**
 * `text === encodeRecordText(f)` for every record the other checks accept, decided member by
 * member without building a second copy of the record (mostly its data_base64).
 */
export function isRecordText (f: RecordFields, text: string): boolean {
  let at = 0
  for (const name of RECORD_MEMBERS) {
    const value = f[name]
    if (value === undefined) continue
    const head = MEMBER_HEADS.get(name) as string
    if (!text.startsWith(head, at)) return false
    at += head.length
    // a string slice compares as fast as memcmp; startsWith walks character by character
    const quoted = PLAIN_MEMBERS.has(name) || !MAY_NEED_ESCAPE.test(value) ? undefined : JSON.stringify(value)
    if (quoted === undefined) {
      const end = at + 1 + value.length
      if (text.charCodeAt(at) !== 0x22 || text.slice(at + 1, end) !== value || text.charCodeAt(end) !== 0x22) return false
      at = end + 1
    } else {
      if (text.slice(at, at + quoted.length) !== quoted) return false
      at += quoted.length
    }
  }
  return at === text.length - 1 && text.charCodeAt(at) === 0x7d /* } */
}

export function formatSequence (sequence: number): string {
  return String(sequence).padStart(SEQUENCE_DIGITS, '0')
}

/** The number a wire `sequence` denotes, or `undefined` unless it is 16 digits and >= 1. */
export function parseSequence (value: string): number | undefined {
  if (value.length !== SEQUENCE_DIGITS || !/^\d+$/.test(value)) return undefined
  const n = Number(value)
  return n >= 1 && Number.isSafeInteger(n) ? n : undefined
}

/** Throws MalformedRecordError unless `sequence` can be a record's sequence number. */
export function checkSequence (sequence: number): void {
  if (!Number.isSafeInteger(sequence) || sequence < 1) {
    throw new MalformedRecordError(`sequence must be a safe integer >= 1, got ${String(sequence)}`, { field: 'sequence' })
  }
}

/**
 * The attribute rules shared by signing and opening: CloudEvents 1.0, required attributes
 * non-empty, optional ones non-empty when present (the CloudEvents spec says so, and the
 * extension digests absent and empty alike), no control characters or lone surrogates, time
 * an RFC 3339 date-time.
 */
export function checkRecordAttributes (a: CloudEventAttributes): void {
  if (a.specversion !== '1.0') throw new MalformedRecordError('specversion must be 1.0', { field: 'specversion' })
  for (const name of ['id', 'source', 'type', 'datacontenttype'] as const) {
    if (typeof a[name] !== 'string' || a[name] === '') throw new MalformedRecordError(`${name} must be a non-empty string`, { field: name })
  }
  for (const name of ['id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'dataschema'] as const) {
    const value = a[name]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') throw new MalformedRecordError(`${name} must be a non-empty string when present`, { field: name })
    if (CONTROL_CHARS.test(value) || !isWellFormedText(value)) throw new MalformedRecordError(`${name} contains control characters or ill-formed Unicode`, { field: name })
  }
  if (a.time !== undefined && normalizeTime(a.time) === undefined) throw new MalformedRecordError('time must be an RFC 3339 date-time', { field: 'time' })
}

export interface OpenRecordOptions {
  /**
   * Refuse records over this many bytes before looking at them.
   * @default MAX_RECORD_BYTES
   */
  maxBytes?: number
}

/**
 * Decode and verify a record's wire bytes from anywhere untrusted (gossip, sync, import, API).
 * Strict: the bytes must be exactly what signCloudEvent writes for the same values (member
 * set and order, escaping, canonical base64, 16-digit sequence >= 1, `signedextattrs` =
 * `sequence`, one canonical DSSE envelope). Then the signature and the verification material
 * are checked with the same code as verifyCloudEvent.
 * Throws EventTooLargeError, MalformedRecordError (CDG_INVALID_CLOUDEVENT) or
 * BadSignatureError (CDG_BAD_SIGNATURE).
 */
export function openSignedRecord (bytes: Uint8Array, options: OpenRecordOptions = {}): SignedCloudEvent {
  return decodeSignedRecord(bytes, options, undefined)
}

/**
 * openSignedRecord with the Ed25519 check handed to `verifier` (a worker pool): every other check
 * runs here first, so a malformed or modified record costs no signature check at all, and the
 * record is returned only once its signature verified. The one difference a caller can see: a
 * record both modified and badly signed is refused as `material-mismatch`, not `bad-signature`.
 */
export async function openSignedRecordWith (bytes: Uint8Array, verifier: SignatureVerifier, options: OpenRecordOptions = {}): Promise<SignedCloudEvent> {
  // a canonical record has exactly one signature: record it, say "valid" for now, check it below
  let pending: Parameters<SignatureVerifier['verify']> | undefined
  const record = decodeSignedRecord(bytes, options, (publicKey, message, signature) => {
    pending = [publicKey, message, signature]
    return true
  })
  // (decoding succeeds only after handing over that one signature)
  if (pending === undefined || !(await verifier.verify(...pending))) {
    throw new BadSignatureError('bad-signature', 'the DSSE signature does not verify')
  }
  return record
}

function decodeSignedRecord (bytes: Uint8Array, options: OpenRecordOptions, verifySignature: MaterialCheck['verifySignature']): SignedCloudEvent {
  const maxBytes = options.maxBytes ?? MAX_RECORD_BYTES
  if (bytes.byteLength > maxBytes) throw new EventTooLargeError(bytes.byteLength, maxBytes)

  let value: unknown
  let text: string
  try {
    text = strictDecoder.decode(bytes)
    value = JSON.parse(text)
  } catch (err) {
    throw new MalformedRecordError('record is not a UTF-8 JSON document', {}, { cause: err })
  }
  const fields = toRecordFields(value)
  if (!isRecordText(fields, text)) {
    throw new MalformedRecordError('record is not in the canonical encoding (member order, spacing or escaping)')
  }

  const { sequence: sequenceText, signedextattrs, dssematerial, data_base64: dataBase64, ...rest } = fields
  const attributes = rest as CloudEventAttributes
  checkRecordAttributes(attributes)
  const sequence = parseSequence(sequenceText)
  if (sequence === undefined) throw new MalformedRecordError(`sequence must be ${SEQUENCE_DIGITS} decimal digits and >= 1`, { field: 'sequence' })
  if (signedextattrs !== SIGNED_EXTENSIONS) throw new MalformedRecordError(`signedextattrs must be ${SIGNED_EXTENSIONS}`, { field: 'signedextattrs' })
  const data = decodeBase64(dataBase64)
  if (data === undefined) throw new MalformedRecordError('data_base64 is not canonical standard base64', { field: 'data_base64' })
  const dsseBytes = decodeBase64(dssematerial)
  if (dsseBytes === undefined) throw new MalformedRecordError('dssematerial is not canonical standard base64', { field: 'dssematerial' })

  const origin = checkSignedMaterial({
    attributes,
    data,
    dssematerial,
    dsseBytes,
    canonical: true,
    extensions: () => [['sequence', sequenceText]],
    verifySignature
  })

  const copy = bytes.slice()
  return {
    bytes: copy,
    digest: hash('sha256', copy),
    attributes: Object.freeze({ ...attributes, sequence: sequenceText, signedextattrs, dssematerial }) as SignedCloudEvent['attributes'],
    data,
    origin,
    sequence
  }
}

function toRecordFields (value: unknown): RecordFields {
  if (!isPlainObject(value)) throw new MalformedRecordError('record is not a JSON object')
  for (const [name, member] of Object.entries(value)) {
    if (!RECORD_MEMBER_SET.has(name)) throw new MalformedRecordError(`record has an unexpected member ${JSON.stringify(name.slice(0, 80))}`, { field: name.slice(0, 80) })
    if (typeof member !== 'string') throw new MalformedRecordError(`record member ${name} is not a string`, { field: name })
  }
  for (const name of REQUIRED_MEMBERS) {
    if (value[name] === undefined) throw new MalformedRecordError(`record has no ${name}`, { field: name })
  }
  // every member was just checked to be a string, and the required ones are present
  return value as unknown as RecordFields
}

/** Build the wire bytes for already-validated fields, refusing them above the size limit. */
export function encodeRecord (fields: RecordFields): { bytes: Uint8Array, digest: string } {
  const bytes = encoder.encode(encodeRecordText(fields))
  if (bytes.byteLength > MAX_RECORD_BYTES) throw new EventTooLargeError(bytes.byteLength, MAX_RECORD_BYTES)
  return { bytes, digest: hash('sha256', bytes) }
}
