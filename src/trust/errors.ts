import { CdgossipError, InvalidRequestError } from '../errors.js'
import type { EventClass } from '../events/index.js'

/**
 * `revoked-signer`: a node key its community's manifest revoked; records of it arriving after this
 * node learned of the revocation are refused (policy, never misbehaviour of whoever sent them).
 */
export type UntrustedReason = 'unknown-signer' | 'source-not-allowed' | 'class-not-allowed' | 'revoked-signer'

export interface UntrustedSignerDetails {
  reason: UntrustedReason
  origin: string
  source: string
  eventClass: EventClass
  /** trust name of the signer, when it is listed */
  name?: string
}

/** The allow-list refuses an event: unknown signer, or a listed signer outside its sources or classes. */
export class UntrustedSignerError extends CdgossipError<UntrustedSignerDetails> {
  constructor (message: string, details: UntrustedSignerDetails) {
    super('CDG_UNTRUSTED_SIGNER', message, { details })
    this.name = 'UntrustedSignerError'
  }
}

export interface InvalidTrustEntryDetails {
  /** the offending field, e.g. `peerId`, `sources[2]`, `mode` */
  field: string
}

/** A trust entry or trust setting failed validation; `details.field` names the field. */
export class InvalidTrustEntryError extends InvalidRequestError {
  declare readonly details: InvalidTrustEntryDetails

  constructor (field: string, message: string) {
    super(message, { field } satisfies InvalidTrustEntryDetails)
    this.name = 'InvalidTrustEntryError'
  }
}
