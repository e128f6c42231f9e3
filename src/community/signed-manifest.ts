import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { decodeBase64, ed25519KeyFromPeerId, encodeBase64, pae, signEd25519, verifyEd25519 } from '../signing/index.js'
import { describeValue } from '../trust/index.js'
import { InvalidManifestError } from './errors.js'
import { encodeManifest, validateManifest, type CommunityManifest } from './manifest.js'

/**
 * The DSSE payload type of a community manifest. Signatures are over the DSSE v1 PAE of this
 * type and the payload bytes (as records' are over theirs), so a manifest signature can never
 * pass for a record signature or the other way round.
 */
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.cdgossip.community-manifest+json; version=1'

/** Bound on a manifest's payload bytes (1,000 scoped nodes fit). */
export const MAX_MANIFEST_BYTES = 64 * 1024
/** A manifest carries one signature, a rotation two (new root and previous root). */
export const MAX_MANIFEST_SIGNATURES = 2

/** An Ed25519 signature is 64 bytes: 88 base64 characters. */
const MAX_SIG_CHARS = 88
/** Base64 of MAX_MANIFEST_BYTES. */
const MAX_PAYLOAD_CHARS = Math.ceil(MAX_MANIFEST_BYTES / 3) * 4

/**
 * A community manifest as it travels (config file, REST body, gossip): DSSE-like, the payload
 * type being MANIFEST_PAYLOAD_TYPE.
 */
export interface SignedManifest {
  /** standard base64 of the manifest's canonical JSON (encodeManifest) */
  payload: string
  /** one per signing root key: keyid = the root key as a peer ID, sig = base64 Ed25519 signature */
  signatures: Array<{ keyid: string, sig: string }>
}

/** A signed manifest whose payload is well-formed; its signatures are not checked yet. */
export interface OpenedManifest {
  manifest: CommunityManifest
  signed: SignedManifest
  /** the decoded payload bytes, what the signatures cover */
  payload: Uint8Array
}

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Sign `manifest` with each of `keys` (its root key, and the previous root key on a rotation). */
export function signManifest (manifest: CommunityManifest, keys: PrivateKey[]): SignedManifest {
  const text = encodeManifest(validateManifest(manifest))
  const payload = encoder.encode(text)
  if (payload.byteLength > MAX_MANIFEST_BYTES) {
    throw new InvalidManifestError('payload', `the manifest is ${payload.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`)
  }
  const message = pae(MANIFEST_PAYLOAD_TYPE, payload)
  const signatures = keys.map(key => {
    const keyid = peerIdFromPrivateKey(key).toString()
    return { keyid, sig: encodeBase64(signEd25519(key, keyid, message)) }
  })
  return { payload: encodeBase64(payload), signatures }
}

/**
 * Decode and validate a signed manifest from outside: bounded, canonical base64 and canonical
 * JSON (one spelling per manifest), well-formed signature entries. Throws InvalidManifestError
 * with fields under `field`. Does not verify signatures: see checkSignatures.
 */
export function openSignedManifest (value: unknown, field = 'manifest'): OpenedManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidManifestError(field, `${field} must be an object {payload, signatures}, got ${describeValue(value)}`)
  const { payload, signatures, ...rest } = value as Record<string, unknown>
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) throw new InvalidManifestError(field, `${field} has an unknown member ${describeValue(unknown)}`)
  if (typeof payload !== 'string' || payload.length > MAX_PAYLOAD_CHARS) {
    throw new InvalidManifestError(`${field}.payload`, `${field}.payload must be base64 of at most ${MAX_MANIFEST_BYTES} bytes`)
  }
  const bytes = decodeBase64(payload)
  if (bytes === undefined) throw new InvalidManifestError(`${field}.payload`, `${field}.payload is not standard base64`)
  let text: string
  let parsed: unknown
  try {
    text = strictDecoder.decode(bytes)
    parsed = JSON.parse(text)
  } catch (err) {
    throw new InvalidManifestError(`${field}.payload`, `${field}.payload is not UTF-8 JSON`, { cause: err })
  }
  let manifest: CommunityManifest
  try {
    manifest = validateManifest(parsed)
  } catch (err) {
    if (err instanceof InvalidManifestError) throw new InvalidManifestError(`${field}.payload.${err.details?.field ?? ''}`, `${field}: ${err.message}`, { cause: err })
    throw err
  }
  if (encodeManifest(manifest) !== text) throw new InvalidManifestError(`${field}.payload`, `${field}.payload is not the canonical encoding of its manifest`)

  if (!Array.isArray(signatures) || signatures.length === 0 || signatures.length > MAX_MANIFEST_SIGNATURES) {
    throw new InvalidManifestError(`${field}.signatures`, `${field}.signatures must list 1..${MAX_MANIFEST_SIGNATURES} signatures`)
  }
  const checked = signatures.map((s: unknown, i) => {
    const at = `${field}.signatures[${i}]`
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new InvalidManifestError(at, `${at} must be an object {keyid, sig}`)
    const { keyid, sig, ...more } = s as Record<string, unknown>
    if (Object.keys(more).length > 0 || typeof keyid !== 'string' || typeof sig !== 'string' || sig.length > MAX_SIG_CHARS) {
      throw new InvalidManifestError(at, `${at} must be exactly {keyid: peer ID, sig: base64 signature}`)
    }
    return { keyid, sig }
  })
  return { manifest, signed: { payload, signatures: checked }, payload: bytes }
}

/**
 * Check that `opened` carries a valid signature by each of `keys` and by nothing else. Throws
 * InvalidManifestError naming the missing or unexpected signer.
 */
export function checkSignatures (opened: OpenedManifest, keys: string[], field = 'manifest'): void {
  const message = pae(MANIFEST_PAYLOAD_TYPE, opened.payload)
  const signers = new Set<string>()
  opened.signed.signatures.forEach(({ keyid, sig }, i) => {
    const at = `${field}.signatures[${i}]`
    if (!keys.includes(keyid)) throw new InvalidManifestError(at, `${at} is by ${describeValue(keyid)}, which is not a root key this manifest needs (${keys.join(', ')})`)
    if (signers.has(keyid)) throw new InvalidManifestError(at, `${at} repeats the signer ${keyid}`)
    const publicKey = ed25519KeyFromPeerId(keyid)
    const bytes = decodeBase64(sig)
    if (publicKey === undefined || bytes === undefined || !verifyEd25519(publicKey, message, bytes)) {
      throw new InvalidManifestError(at, `${at}: the signature by ${keyid} does not verify`)
    }
    signers.add(keyid)
  })
  const missing = keys.find(key => !signers.has(key))
  if (missing !== undefined) throw new InvalidManifestError(`${field}.signatures`, `${field} is not signed by root key ${missing}`)
}
