/**
 * The one base for every cdgossip failure. Code branches on `code` (or instanceof), never on
 * the message; api/ maps codes to HTTP statuses, p2p/ maps them to gossip verdicts.
 * Plain `Error` is reserved for programmer bugs.
 */
export const ERROR_CODES = [
  'CDG_INVALID_EVENT', // schema violation of a CDEvent (details: violations)
  'CDG_UNSUPPORTED_SPEC_VERSION', // e.g. a 0.4.x envelope
  'CDG_INVALID_CLOUDEVENT', // CloudEvent attributes malformed or disagreeing with the CDEvent
  'CDG_BAD_SIGNATURE', // DSSE/Verifiability check failed
  'CDG_UNTRUSTED_SIGNER', // signer or source/class outside the trust policy
  'CDG_UNTRUSTED_FORWARDED', // an untrusted signer's record forwarded by a third peer (honest relays' policies differ)
  'CDG_DUPLICATE_EVENT', // same (source, id) already stored with identical content
  'CDG_CONFLICTING_EVENT', // same (source, id) already stored with different content
  'CDG_EVENT_TOO_LARGE', // over the record size limit
  'CDG_UNSUPPORTED_MEDIA_TYPE',
  'CDG_INVALID_REQUEST', // malformed input that is not an event (bad cursor, bad filter, bad id)
  'CDG_NOT_FOUND',
  'CDG_UNAUTHORIZED',
  'CDG_READ_ONLY_SESSION', // a state change authenticated only by the web page's session cookie
  'CDG_NOT_STARTED', // component not running (starting, stopping or stopped)
  'CDG_CONFIG', // configuration invalid
  'CDG_TOPIC_MISMATCH', // gossip topic disagrees with the event class
  'CDG_SYNC_PROTOCOL', // a sync peer answered garbage
  'CDG_TIMEOUT',
  'CDG_ABORTED',
  'CDG_RATE_LIMITED', // too many requests from one sender (the hooks listener's token buckets)
  'CDG_INVALID_MANIFEST', // a community manifest or chain that is malformed, oversized or wrongly signed
  'CDG_STALE_MANIFEST', // a community manifest whose version is not newer than the one held
  'CDG_STORE' // LevelDB failure
] as const

export type ErrorCode = typeof ERROR_CODES[number]

export interface ErrorOptions<D> {
  details?: D
  cause?: unknown
}

export class CdgossipError<D = unknown> extends Error {
  readonly code: ErrorCode
  readonly details: D | undefined

  constructor (code: ErrorCode, message: string, options: ErrorOptions<D> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CdgossipError'
    this.code = code
    this.details = options.details
  }
}

export function isCdgossipError (err: unknown): err is CdgossipError {
  return err instanceof CdgossipError
}

/** Thrown when a component is used outside its started state. */
export class NotStartedError extends CdgossipError {
  constructor (component: string) {
    super('CDG_NOT_STARTED', `${component} is not started`)
    this.name = 'NotStartedError'
  }
}

export class InvalidRequestError extends CdgossipError {
  constructor (message: string, details?: unknown) {
    super('CDG_INVALID_REQUEST', message, { details })
    this.name = 'InvalidRequestError'
  }
}
