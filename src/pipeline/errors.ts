import { CdgossipError } from '../errors.js'

/** A record arrived on (or was served for) a class other than its own: misrouted or forged. */
export class TopicMismatchError extends CdgossipError<{ expected: string, actual: string }> {
  constructor (expected: string, actual: string) {
    super('CDG_TOPIC_MISMATCH', `event of class ${actual} arrived on the topic of ${expected}`, { details: { expected, actual } })
    this.name = 'TopicMismatchError'
  }
}

/**
 * An untrusted signer's record that a third peer forwarded. Kept apart from UntrustedSignerError
 * so gossip Ignores it instead of punishing the forwarder: honest neighbours may trust more.
 */
export class UntrustedForwardedError extends CdgossipError<{ origin: string, from: string }> {
  constructor (message: string, origin: string, from: string, cause: unknown) {
    super('CDG_UNTRUSTED_FORWARDED', message, { details: { origin, from }, cause })
    this.name = 'UntrustedForwardedError'
  }
}
