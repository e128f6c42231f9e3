import { CdgossipError } from '../errors.js'

export interface MalformedRecordDetails {
  /** the member or attribute at fault, when one is (e.g. `data_base64`, `time`, `sequence`) */
  field?: string
}

/**
 * The bytes or values do not form a well-formed signed CloudEvent: not the exact wire encoding
 * signCloudEvent produces, a missing or mistyped attribute, or a bad input to signCloudEvent.
 */
export class MalformedRecordError extends CdgossipError<MalformedRecordDetails> {
  constructor (message: string, details: MalformedRecordDetails = {}, options: { cause?: unknown } = {}) {
    super('CDG_INVALID_CLOUDEVENT', message, { details, cause: options.cause })
    this.name = 'MalformedRecordError'
  }
}

/**
 * Which step of the Verifiability check failed. Stable strings, safe as metric labels:
 * - `missing-material`: no (or empty) `dssematerial`
 * - `bad-base64`: `dssematerial` is not standard base64
 * - `bad-envelope`: the decoded material is not a DSSE JSON envelope (or, for records, not the
 *   exact envelope cdgossip writes)
 * - `wrong-payload-type`: an envelope of another payload type
 * - `bad-payload`: the envelope payload is not 32 bytes of base64
 * - `bad-keyid`: no signature whose keyid is an Ed25519 peer ID (that the caller accepts)
 * - `bad-signature`: no such signature verifies over the DSSE PAE
 * - `bad-signedextattrs`: `signedextattrs` breaks the extension's rules
 * - `bad-attribute`: an attribute cannot be digested (time not RFC 3339, ill-formed Unicode)
 * - `material-mismatch`: the signature is genuine but the event was modified after signing
 */
export type BadSignatureReason =
  | 'missing-material'
  | 'bad-base64'
  | 'bad-envelope'
  | 'wrong-payload-type'
  | 'bad-payload'
  | 'bad-keyid'
  | 'bad-signature'
  | 'bad-signedextattrs'
  | 'bad-attribute'
  | 'material-mismatch'

export interface BadSignatureDetails {
  reason: BadSignatureReason
}

/** The CloudEvents Verifiability check failed: forged, modified, or unverifiable. */
export class BadSignatureError extends CdgossipError<BadSignatureDetails> {
  constructor (reason: BadSignatureReason, message: string, options: { cause?: unknown } = {}) {
    super('CDG_BAD_SIGNATURE', message, { details: { reason }, cause: options.cause })
    this.name = 'BadSignatureError'
  }
}

export interface EventTooLargeDetails {
  /** the size seen, in bytes (for signing, a lower bound may be reported) */
  size: number
  limit: number
}

/** A record over MAX_RECORD_BYTES. */
export class EventTooLargeError extends CdgossipError<EventTooLargeDetails> {
  constructor (size: number, limit: number) {
    super('CDG_EVENT_TOO_LARGE', `record of ${size} bytes is over the ${limit}-byte limit`, { details: { size, limit } })
    this.name = 'EventTooLargeError'
  }
}

export interface KeyFileDetails {
  path: string
}

/** The identity key file cannot be used: unsafe permissions, unreadable, not an Ed25519 libp2p key. */
export class KeyFileError extends CdgossipError<KeyFileDetails> {
  constructor (path: string, message: string, options: { cause?: unknown } = {}) {
    super('CDG_CONFIG', message, { details: { path }, cause: options.cause })
    this.name = 'KeyFileError'
  }
}
