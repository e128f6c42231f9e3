import { CdgossipError } from '../errors.js'

/** One schema violation: where (a JSON pointer into the event, `''` for the root) and what. */
export interface Violation {
  path: string
  message: string
}

export interface InvalidEventDetails {
  violations: Violation[]
}

/** The value is not a valid CDEvent v0.5.x (schema violation, unknown type, undecodable data). */
export class InvalidEventError extends CdgossipError<InvalidEventDetails> {
  constructor (message: string, violations: Violation[], options: { cause?: unknown } = {}) {
    super('CDG_INVALID_EVENT', message, { details: { violations }, cause: options.cause })
    this.name = 'InvalidEventError'
  }
}

export interface UnsupportedSpecVersionDetails {
  /** JSON pointer of what gave the version away, e.g. `/context/specversion` or `/context/version` */
  path: string
  /** the specversion found, when there is one (truncated) */
  found?: string
  expected: string
}

/** A CDEvent of another spec version, e.g. a 0.4.x envelope. */
export class UnsupportedSpecVersionError extends CdgossipError<UnsupportedSpecVersionDetails> {
  constructor (message: string, details: UnsupportedSpecVersionDetails) {
    super('CDG_UNSUPPORTED_SPEC_VERSION', message, { details })
    this.name = 'UnsupportedSpecVersionError'
  }
}

export interface CloudEventMismatch {
  attribute: string
  /** what the CloudEvent carried (`undefined` when the attribute is missing) */
  cloudEvent: unknown
  /** what the CDEvent implies (`undefined` when it implies nothing but the attribute is malformed) */
  cdevent: string | undefined
}

export interface InvalidCloudEventDetails {
  mismatches: CloudEventMismatch[]
}

/** CloudEvent attributes that are malformed or disagree with the CDEvent they carry. */
export class InvalidCloudEventError extends CdgossipError<InvalidCloudEventDetails> {
  constructor (message: string, mismatches: CloudEventMismatch[]) {
    super('CDG_INVALID_CLOUDEVENT', message, { details: { mismatches } })
    this.name = 'InvalidCloudEventError'
  }
}
