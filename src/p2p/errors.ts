import { CdgossipError } from '../errors.js'

export { NotStartedError } from '../errors.js'

/** A record handed to `publish()` is over the size every node accepts (MAX_RECORD_BYTES). */
export class RecordTooLargeError extends CdgossipError<{ size: number, limit: number }> {
  constructor (size: number, limit: number) {
    super('CDG_EVENT_TOO_LARGE', `record of ${size} bytes is over the ${limit} byte limit`, { details: { size, limit } })
    this.name = 'RecordTooLargeError'
  }
}

/** An event class that cannot name a topic of this network (empty, slashes, too long, …). */
export class InvalidEventClassError extends CdgossipError<{ eventClass: string }> {
  constructor (eventClass: string) {
    super('CDG_INVALID_REQUEST', 'event class cannot name a gossip topic', { details: { eventClass } })
    this.name = 'InvalidEventClassError'
  }
}

/** P2PInit is unusable (bad multiaddr, bootstrap entry without /p2p/<id>, empty network, …). */
export class P2PConfigError extends CdgossipError<{ field: string }> {
  constructor (field: string, message: string, options: { cause?: unknown } = {}) {
    super('CDG_CONFIG', `p2p.${field}: ${message}`, { details: { field }, cause: options.cause })
    this.name = 'P2PConfigError'
  }
}
