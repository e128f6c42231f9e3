import { hash } from 'node:crypto'
import { normalizeTime } from './time.js'

/**
 * The context attributes the verification material covers, in the extension's digest order.
 * Absent and empty both digest as the empty byte sequence (the extension's rule).
 */
export interface MaterialAttributes {
  id?: string
  source?: string
  specversion?: string
  type?: string
  datacontenttype?: string
  dataschema?: string
  subject?: string
  /** any RFC 3339 date-time; it is normalised before digesting */
  time?: string
}

/** A signed extension attribute as a (name, value) pair, in `signedextattrs` order. */
export type SignedExtension = readonly [name: string, value: string]

/** Core context attributes, plus the extension's own, that `signedextattrs` must never name. */
export const RESERVED_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set([
  'id', 'source', 'specversion', 'type', 'datacontenttype', 'dataschema', 'subject', 'time',
  'dssematerial', 'signedextattrs'
])

/**
 * CloudEvents attribute names are lower-case letters and digits (spec §"Attribute Naming
 * Convention"). The length bound is ours: the spec only says SHOULD be at most 20.
 */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,64}$/

/** At most this many signed extensions, so a hostile `signedextattrs` cannot make us hash forever. */
export const MAX_SIGNED_EXTENSIONS = 64

/** Lone surrogates: TextEncoder turns each into U+FFFD, so two strings would share one digest. */
const LONE_SURROGATE = /\p{Cs}/u

export class MaterialInputError extends Error {
  constructor (readonly field: string, message: string) {
    super(message)
    this.name = 'MaterialInputError'
  }
}

/**
 * A digest in the list as a latin1 string, one character per byte: a string lives on V8's heap,
 * where a 32-byte Buffer costs a native allocation and a backing store of its own, and an event
 * digests up to a dozen values (BENCHMARKS.md, "Round 18").
 */
type Digest = string

function digestOf (bytes: Uint8Array | string): Digest {
  // one-shot: a Hash object per digest costs more than the digest itself on short attributes;
  // 'binary' is Node's name for latin1
  return hash('sha256', bytes, 'binary')
}

const EMPTY_DIGEST = digestOf(new Uint8Array(0))

/** `true` when the string survives UTF-8 encoding unchanged (no lone surrogates). */
export function isWellFormedText (value: string): boolean {
  return !LONE_SURROGATE.test(value)
}

function textDigest (field: string, value: string | undefined): Digest {
  if (value === undefined || value === '') return EMPTY_DIGEST
  if (!isWellFormedText(value)) throw new MaterialInputError(field, `attribute ${field} is not well-formed Unicode (lone surrogate)`)
  // a well-formed string hashes as its UTF-8 bytes
  return digestOf(value)
}

/**
 * The digest list the extension concatenates: id, source, specversion, type, datacontenttype,
 * dataschema, subject, time (normalised to RFC 3339 UTC), data, then name and value of each
 * signed extension, already concatenated. Throws MaterialInputError for a time that is not
 * RFC 3339 or text that is not well-formed Unicode.
 */
function concatenatedDigests (attributes: MaterialAttributes, data: Uint8Array, extensions: readonly SignedExtension[]): Digest {
  let time: string | undefined
  if (attributes.time !== undefined && attributes.time !== '') {
    time = normalizeTime(attributes.time)
    if (time === undefined) throw new MaterialInputError('time', 'attribute time is not an RFC 3339 date-time')
  }
  let digests = textDigest('id', attributes.id) +
    repeatedTextDigest('source', attributes.source) +
    repeatedTextDigest('specversion', attributes.specversion) +
    repeatedTextDigest('type', attributes.type) +
    repeatedTextDigest('datacontenttype', attributes.datacontenttype) +
    repeatedTextDigest('dataschema', attributes.dataschema) +
    textDigest('subject', attributes.subject) +
    (time === undefined ? EMPTY_DIGEST : digestOf(time)) +
    digestOf(data)
  for (const [name, value] of extensions) {
    digests += repeatedTextDigest('signedextattrs', name) + textDigest(name, value)
  }
  return digests
}

/** The digest list, one 32-byte Buffer each: for checks against the extension's published test vectors. */
export function verificationMaterialDigests (attributes: MaterialAttributes, data: Uint8Array, extensions: readonly SignedExtension[] = []): Buffer[] {
  const all = Buffer.from(concatenatedDigests(attributes, data, extensions), 'latin1')
  return Array.from({ length: all.byteLength / 32 }, (_, i) => all.subarray(i * 32, (i + 1) * 32))
}

/** The 32-byte VERIFICATION_MATERIAL: SHA256 of the concatenated digest list. */
export function computeVerificationMaterial (attributes: MaterialAttributes, data: Uint8Array, extensions: readonly SignedExtension[] = []): Buffer {
  return hash('sha256', Buffer.from(concatenatedDigests(attributes, data, extensions), 'latin1'), 'buffer')
}

/**
 * Digests of values that repeat from event to event (a community's few sources and types, `1.0`,
 * `application/json`, the signed extension names): half of an event's digests, served from memory.
 * Bounded: a stream of distinct values only refills it.
 */
const repeatedDigests = new Map<string, Digest>()
const MAX_REPEATED_DIGESTS = 4096

function repeatedTextDigest (field: string, value: string | undefined): Digest {
  if (value === undefined || value === '' || value.length > 256) return textDigest(field, value)
  let digest = repeatedDigests.get(value)
  if (digest === undefined) {
    digest = textDigest(field, value)
    if (repeatedDigests.size >= MAX_REPEATED_DIGESTS) repeatedDigests.clear()
    repeatedDigests.set(value, digest)
  }
  return digest
}

/**
 * The names listed in a `signedextattrs` value, validated per the extension: comma-separated,
 * no repetitions, no core attribute, not `dssematerial` or `signedextattrs`. We also require
 * each name to be a valid CloudEvents attribute name, which is what refuses the spec's
 * test case 8 (`exta, extb`: the space makes ` extb` a name no event can carry). Absent or
 * empty means no signed extensions. Returns a reason string instead of the list when invalid.
 */
export function parseSignedExtAttrs (value: string | undefined): string[] | { invalid: string } {
  if (value === undefined || value === '') return []
  const names = value.split(',', MAX_SIGNED_EXTENSIONS + 1)
  if (names.length > MAX_SIGNED_EXTENSIONS) return { invalid: `signedextattrs lists more than ${MAX_SIGNED_EXTENSIONS} names` }
  const seen = new Set<string>()
  for (const name of names) {
    if (!ATTRIBUTE_NAME.test(name)) return { invalid: `signedextattrs entry ${JSON.stringify(name.slice(0, 80))} is not a CloudEvents attribute name (lower-case letters and digits, no spaces)` }
    if (RESERVED_ATTRIBUTE_NAMES.has(name)) return { invalid: `signedextattrs must not list ${name}` }
    if (seen.has(name)) return { invalid: `signedextattrs lists ${name} twice` }
    seen.add(name)
  }
  return names
}
