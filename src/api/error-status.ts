import type { ErrorCode } from '../errors.js'

/**
 * The code an error body carries when the failure is not a CdgossipError (a bug, or something a
 * dependency threw): the API must still answer with a stable code, and ERROR_CODES has none for
 * "internal", because every CdgossipError is by definition an expected failure.
 */
export const INTERNAL_ERROR_CODE = 'CDG_INTERNAL'

/** Every code an API error body can carry. */
export type ApiErrorCode = ErrorCode | typeof INTERNAL_ERROR_CODE

/**
 * The HTTP status of every cdgossip error code: the one place where codes meet HTTP.
 * The Record type makes the compiler refuse a new ErrorCode until it has a status here.
 */
export const ERROR_STATUS: Readonly<Record<ApiErrorCode, number>> = Object.freeze({
  CDG_INVALID_EVENT: 400,
  CDG_UNSUPPORTED_SPEC_VERSION: 400,
  CDG_INVALID_CLOUDEVENT: 422,
  // only a client-supplied record can carry a signature that fails, so it is the client's error
  CDG_BAD_SIGNATURE: 400,
  CDG_UNTRUSTED_SIGNER: 403,
  CDG_UNTRUSTED_FORWARDED: 403,
  // The node answers an idempotent repeat with an `existing` receipt (HTTP 200), so this code
  // should never reach a client; if it does, 409 tells it the (source, id) is taken.
  CDG_DUPLICATE_EVENT: 409,
  CDG_CONFLICTING_EVENT: 409,
  CDG_EVENT_TOO_LARGE: 413,
  CDG_UNSUPPORTED_MEDIA_TYPE: 415,
  CDG_INVALID_REQUEST: 400,
  CDG_NOT_FOUND: 404,
  CDG_UNAUTHORIZED: 401,
  CDG_READ_ONLY_SESSION: 403,
  CDG_NOT_STARTED: 503,
  CDG_CONFIG: 500,
  CDG_TOPIC_MISMATCH: 500,
  CDG_SYNC_PROTOCOL: 500,
  CDG_TIMEOUT: 504,
  // an abort during a request means the node is stopping: retry later, like CDG_NOT_STARTED
  CDG_ABORTED: 503,
  CDG_RATE_LIMITED: 429,
  CDG_INVALID_MANIFEST: 400,
  // the node already holds this version or a newer one: nothing to do, like a duplicate event
  CDG_STALE_MANIFEST: 409,
  CDG_STORE: 500,
  CDG_INTERNAL: 500
})

/**
 * One line per error code for the README's error table (the lead renders it); a drift test
 * keeps it complete.
 */
export const ERROR_DOCS: Readonly<Record<ApiErrorCode, string>> = Object.freeze({
  CDG_INVALID_EVENT: 'The CDEvent violates its v0.5.1 JSON Schema; `violations` lists each problem as a JSON pointer and a message.',
  CDG_UNSUPPORTED_SPEC_VERSION: 'The CDEvent declares a spec version other than 0.5.x (for example a 0.4.x envelope).',
  CDG_INVALID_CLOUDEVENT: 'CloudEvent attributes are malformed or disagree with the CDEvent they carry; `mismatches` lists them.',
  CDG_BAD_SIGNATURE: 'A signed record failed the Verifiability (DSSE) signature check.',
  CDG_UNTRUSTED_SIGNER: 'The signer, or the event\'s source or class, is outside the trust policy.',
  CDG_UNTRUSTED_FORWARDED: 'A peer forwarded a record whose signer is outside this node\'s trust policy (not counted against that peer).',
  CDG_DUPLICATE_EVENT: 'The same (source, id) is already stored with identical content; publishing answers 200 with an `existing` receipt instead.',
  CDG_CONFLICTING_EVENT: 'The same (source, id) is already stored with different content.',
  CDG_EVENT_TOO_LARGE: 'The request body, an event or a batch is over its size limit.',
  CDG_UNSUPPORTED_MEDIA_TYPE: 'The request\'s content type is not one the route accepts; the message lists the accepted types.',
  CDG_INVALID_REQUEST: 'Malformed input that is not an event: bad JSON, a bad query parameter, cursor, digest or body field; schema failures list `violations`.',
  CDG_NOT_FOUND: 'No such event, subscription, trust entry or route.',
  CDG_UNAUTHORIZED: 'Missing or wrong bearer token (`WWW-Authenticate: Bearer`).',
  CDG_READ_ONLY_SESSION: 'The web page\'s session cookie only reads (GET, HEAD); a state change needs the bearer token.',
  CDG_NOT_STARTED: 'The node is starting or stopping; retry later.',
  CDG_CONFIG: 'The node\'s configuration is invalid.',
  CDG_TOPIC_MISMATCH: 'A gossip message arrived on a topic that disagrees with its event class.',
  CDG_SYNC_PROTOCOL: 'A peer answered a sync request with something that is not the sync protocol.',
  CDG_TIMEOUT: 'The operation timed out.',
  CDG_ABORTED: 'The operation was aborted, usually because the node is stopping; retry later.',
  CDG_RATE_LIMITED: 'Too many webhook deliveries from one address or to one source (hooks listener); retry after `Retry-After` seconds.',
  CDG_INVALID_MANIFEST: 'A community manifest or chain is malformed, over its bounds, or not signed by the root keys it needs; `field` names the part at fault.',
  CDG_STALE_MANIFEST: 'The community manifest is not newer than the version the node already holds.',
  CDG_STORE: 'The event store (LevelDB) failed.',
  CDG_INTERNAL: 'An unexpected failure inside the node (a bug); the server log has the details.'
})

export function isApiErrorCode (code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code)
}
