import { decodeBase64 } from './base64.js'
import { DSSE_PAYLOAD_TYPE, decodeDsseMaterial, isPlainObject, pae } from './dsse.js'
import { BadSignatureError, MalformedRecordError } from './errors.js'
import { ed25519KeyFromPeerId, verifyEd25519 } from './keys.js'
import { computeVerificationMaterial, MaterialInputError, parseSignedExtAttrs } from './material.js'
import type { MaterialAttributes, SignedExtension } from './material.js'
import type { KeyObject } from 'node:crypto'

/** A CloudEvent reduced to what verification needs: string attributes and exact data bytes. */
export interface CloudEventParts {
  /** every context attribute (core and extensions), including `dssematerial` and `signedextattrs` */
  attributes: Record<string, string>
  data: Uint8Array
}

export interface VerifiedCloudEvent {
  /** peer ID of the signer whose signature verified (the DSSE keyid) */
  signer: string
  /** the extension attributes the signature covers, name to value, in `signedextattrs` order */
  signedExtensions: Record<string, string>
}

export interface VerifyOptions {
  /**
   * Consider only signatures whose keyid this accepts (the extension's "filter signatures by
   * keyid from the list of acceptable keys"). Trust policy still belongs to trust/; this only
   * lets a caller pick among several signatures.
   * @default every Ed25519 peer ID
   */
  acceptSigner?: (peerId: string) => boolean
}

const VERIFICATION_MATERIAL_BYTES = 32

const CORE_ATTRIBUTES = ['id', 'source', 'specversion', 'type', 'datacontenttype', 'dataschema', 'subject', 'time'] as const

/**
 * Verify any CloudEvent carrying the Verifiability extension whose signer is an Ed25519 libp2p
 * key (DSSE keyid = peer ID, so the peer ID alone verifies). Follows the extension's
 * verification protocol; the first signature (among those with an Ed25519 peer-ID keyid the
 * caller accepts) that verifies wins and is reported as `signer`. Throws BadSignatureError
 * whose `details.reason` names the failing step. Says nothing about trust: whether `signer`
 * may speak for the event's source is trust/'s question.
 */
export function verifyCloudEvent (event: CloudEventParts, options: VerifyOptions = {}): VerifiedCloudEvent {
  const attributes = event.attributes
  const material: MaterialAttributes = {}
  for (const name of CORE_ATTRIBUTES) {
    const value = ownString(attributes, name)
    if (value !== undefined) material[name] = value
  }
  let signedExtensions: Record<string, string> = {}
  const signer = checkSignedMaterial({
    attributes: material,
    data: event.data,
    dssematerial: ownString(attributes, 'dssematerial'),
    canonical: false,
    acceptSigner: options.acceptSigner,
    extensions: () => {
      const names = parseSignedExtAttrs(ownString(attributes, 'signedextattrs'))
      if (!Array.isArray(names)) throw new BadSignatureError('bad-signedextattrs', names.invalid)
      const pairs: SignedExtension[] = []
      signedExtensions = {}
      for (const name of names) {
        const value = ownString(attributes, name)
        if (value === undefined) throw new BadSignatureError('bad-signedextattrs', `signed extension attribute ${name} is not on the event`)
        pairs.push([name, value])
        signedExtensions[name] = value
      }
      return pairs
    }
  })
  return { signer, signedExtensions }
}

function ownString (attributes: Record<string, string>, name: string): string | undefined {
  if (!Object.hasOwn(attributes, name)) return undefined
  const value: unknown = attributes[name]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new BadSignatureError('bad-attribute', `attribute ${name} is not a string`)
  return value
}

/** What both the generic verifier and the wire-record decoder hand to the one check. */
export interface MaterialCheck {
  attributes: MaterialAttributes
  data: Uint8Array
  dssematerial: string | undefined
  /** `dssematerial`'s bytes when the caller already decoded (and checked) its base64 */
  dsseBytes?: Uint8Array
  /** wire records: exactly one signature, and the envelope exactly as cdgossip writes it */
  canonical: boolean
  acceptSigner?: ((peerId: string) => boolean) | undefined
  /** the signed extensions; called after the signature checks, may throw BadSignatureError */
  extensions: () => readonly SignedExtension[]
  /**
   * Checks one signature; by default now, on this thread. openSignedRecordWith records the
   * signature here instead and verifies it off-thread once everything else has passed.
   */
  verifySignature?: (publicKey: KeyObject, message: Uint8Array, signature: Uint8Array) => boolean
}

/**
 * The extension's verification protocol over one event, in its order: decode the envelope,
 * payload type, payload length, DSSE signature over PAE, `signedextattrs`, recomputed material.
 * Returns the verifying signer's peer ID.
 */
export function checkSignedMaterial (check: MaterialCheck): string {
  const envelope = decodeDsseMaterial(check.dssematerial, { canonical: check.canonical, decoded: check.dsseBytes })
  if (check.canonical && envelope.signatures.length !== 1) {
    throw new BadSignatureError('bad-envelope', 'a cdgossip record carries exactly one signature')
  }
  if (envelope.payloadType !== DSSE_PAYLOAD_TYPE) {
    throw new BadSignatureError('wrong-payload-type', `DSSE payloadType ${JSON.stringify(envelope.payloadType.slice(0, 200))} is not ${DSSE_PAYLOAD_TYPE}`)
  }
  if (envelope.payload.byteLength !== VERIFICATION_MATERIAL_BYTES) {
    throw new BadSignatureError('bad-payload', `DSSE payload is ${envelope.payload.byteLength} bytes, not the ${VERIFICATION_MATERIAL_BYTES}-byte verification material`)
  }

  let signer: string | undefined
  let candidates = 0
  const message = pae(envelope.payloadType, envelope.payload)
  for (const { keyid, sig } of envelope.signatures) {
    if (keyid === undefined) continue
    const publicKey = ed25519KeyFromPeerId(keyid)
    if (publicKey === undefined) continue
    if (check.acceptSigner !== undefined && !check.acceptSigner(keyid)) continue
    candidates++
    if ((check.verifySignature ?? verifyEd25519)(publicKey, message, sig)) {
      signer = keyid
      break
    }
  }
  if (candidates === 0) {
    throw new BadSignatureError('bad-keyid', check.acceptSigner === undefined
      ? 'no DSSE signature has a keyid that is an Ed25519 peer ID'
      : 'no DSSE signature has a keyid that is an accepted Ed25519 peer ID')
  }
  if (signer === undefined) throw new BadSignatureError('bad-signature', 'the DSSE signature does not verify')

  const extensions = check.extensions()
  let material: Buffer
  try {
    material = computeVerificationMaterial(check.attributes, check.data, extensions)
  } catch (err) {
    if (err instanceof MaterialInputError) throw new BadSignatureError('bad-attribute', err.message, { cause: err })
    throw err
  }
  if (!material.equals(envelope.payload)) {
    throw new BadSignatureError('material-mismatch', 'the event does not match its signed verification material: it was modified after signing')
  }
  return signer
}

/** CloudEvents attribute names (lower-case letters and digits); the bound is ours. */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,64}$/
/** More members than any real event has; stops a hostile document from costing much. */
const MAX_JSON_MEMBERS = 256
/** Attributes the CloudEvents type system makes strings (or URI kinds carried as strings). */
const STRING_ATTRIBUTES: ReadonlySet<string> = new Set([...CORE_ATTRIBUTES, 'dssematerial', 'signedextattrs'])
const encoder = new TextEncoder()

/**
 * Split a JSON-format CloudEvent (already parsed) into string attributes and data bytes.
 *
 * Data: `data_base64` gives exact bytes. A JSON-valued `data` is ambiguous in structured mode:
 * the bytes the producer signed are gone once the document was parsed, so we take
 * `JSON.stringify(data)` (compact, member order as received) as UTF-8. That matches producers
 * that signed compact JSON and nothing else; a string `data` is taken as its UTF-8. cdgossip
 * records never hit this: they always carry `data_base64`. Absent or null `data` is empty.
 *
 * Extension attributes that are JSON booleans or integers become their canonical strings
 * (`true`, `42`); null members are absent (JSON format rule). Throws MalformedRecordError
 * (CDG_INVALID_CLOUDEVENT) for anything that is not a CloudEvent JSON object.
 */
export function parseCloudEventJson (value: unknown): CloudEventParts {
  if (!isPlainObject(value)) throw new MalformedRecordError('a JSON-format CloudEvent must be a JSON object')
  const entries = Object.entries(value)
  if (entries.length > MAX_JSON_MEMBERS) throw new MalformedRecordError(`the CloudEvent has more than ${MAX_JSON_MEMBERS} members`)

  const attributes: Record<string, string> = {}
  let data: Uint8Array = new Uint8Array(0)
  let hasData = false
  for (const [name, member] of entries) {
    if (name === 'data' || name === 'data_base64') {
      if (member === null || member === undefined) continue
      if (hasData) throw new MalformedRecordError('the CloudEvent has both data and data_base64', { field: name })
      hasData = true
      if (name === 'data_base64') {
        const bytes = typeof member === 'string' ? decodeBase64(member) : undefined
        if (bytes === undefined) throw new MalformedRecordError('data_base64 is not a standard base64 string', { field: name })
        data = bytes
      } else {
        data = encoder.encode(typeof member === 'string' ? member : JSON.stringify(member))
      }
      continue
    }
    if (!ATTRIBUTE_NAME.test(name)) throw new MalformedRecordError(`${JSON.stringify(name.slice(0, 80))} is not a CloudEvents attribute name`, { field: name.slice(0, 80) })
    if (member === null) continue
    if (typeof member === 'string') {
      attributes[name] = member
    } else if (!STRING_ATTRIBUTES.has(name) && typeof member === 'boolean') {
      attributes[name] = member ? 'true' : 'false'
    } else if (!STRING_ATTRIBUTES.has(name) && typeof member === 'number' && Number.isSafeInteger(member)) {
      attributes[name] = String(member)
    } else {
      throw new MalformedRecordError(`attribute ${name} has a value of an unsupported type`, { field: name })
    }
  }
  for (const name of ['specversion', 'id', 'source', 'type']) {
    if (attributes[name] === undefined) throw new MalformedRecordError(`the CloudEvent has no ${name}`, { field: name })
  }
  return { attributes, data }
}
