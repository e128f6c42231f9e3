import { CdgossipError } from '../errors.js'

const MEDIA_TYPE_ECHO_MAX = 100

/** A request without a bearer token, or with the wrong one. */
export class UnauthorizedError extends CdgossipError<{ reason: 'missing' | 'invalid' }> {
  constructor (reason: 'missing' | 'invalid') {
    super('CDG_UNAUTHORIZED', reason === 'missing' ? 'missing bearer token' : 'invalid bearer token', { details: { reason } })
    this.name = 'UnauthorizedError'
  }
}

/** A state change authenticated only by the web page's session cookie, which can only read. */
export class ReadOnlySessionError extends CdgossipError<{ method: string }> {
  constructor (method: string) {
    super('CDG_READ_ONLY_SESSION', `the web page's session cookie can only read (GET, HEAD); ${method} needs the bearer token`, { details: { method } })
    this.name = 'ReadOnlySessionError'
  }
}

/** A body in a media type the route does not accept; `details.accepted` lists what it does. */
export class UnsupportedMediaTypeError extends CdgossipError<{ accepted: readonly string[] }> {
  constructor (mediaType: string | undefined, accepted: readonly string[]) {
    super('CDG_UNSUPPORTED_MEDIA_TYPE', unsupportedMediaTypeMessage(mediaType, accepted), { details: { accepted } })
    this.name = 'UnsupportedMediaTypeError'
  }
}

/**
 * A CloudEvent envelope the API cannot turn into a CDEvent: bad percent-encoding in a `ce-`
 * header, `data_base64` that is not base64 JSON, both or neither of `data` and `data_base64`.
 * Same code and `mismatches` detail as the node's refusals of CloudEvent attributes, so a client
 * handles one shape. (Shape errors caught by the route schema are CDG_INVALID_REQUEST instead.)
 */
export class MalformedCloudEventError extends CdgossipError<{ mismatches: Array<{ attribute: string, cloudEvent: unknown, cdevent: undefined }> }> {
  constructor (message: string, attribute: string, options: { value?: unknown, cause?: unknown } = {}) {
    super('CDG_INVALID_CLOUDEVENT', message, {
      details: { mismatches: [{ attribute, cloudEvent: options.value, cdevent: undefined }] },
      cause: options.cause
    })
    this.name = 'MalformedCloudEventError'
  }
}

/** buildApi was given an unusable init (empty token, bad body limit). */
export class ApiConfigError extends CdgossipError {
  constructor (message: string) {
    super('CDG_CONFIG', message)
    this.name = 'ApiConfigError'
  }
}

export function unsupportedMediaTypeMessage (mediaType: string | undefined, accepted: readonly string[]): string {
  // the header is untrusted and echoed back: keep it short
  const got = mediaType === undefined || mediaType === '' ? 'no content-type' : `'${mediaType.slice(0, MEDIA_TYPE_ECHO_MAX)}'`
  return `unsupported media type: ${got}; accepted: ${accepted.join(', ')}`
}

/** The addressed event, subscription or trust entry does not exist. */
export class NotFoundError extends CdgossipError {
  constructor (message: string) {
    super('CDG_NOT_FOUND', message)
    this.name = 'NotFoundError'
  }
}
