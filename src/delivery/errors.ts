import { CdgossipError } from '../errors.js'

export interface InvalidSinkDetails {
  subscriptionId?: string
  problems: string[]
}

/** A webhook sink that cannot be used: bad URL, out-of-range limits, forbidden headers. */
export class InvalidSinkError extends CdgossipError<InvalidSinkDetails> {
  constructor (details: InvalidSinkDetails, options: { cause?: unknown } = {}) {
    super('CDG_INVALID_REQUEST', `invalid webhook sink: ${details.problems.join('; ')}`, { details, cause: options.cause })
    this.name = 'InvalidSinkError'
  }
}

/** Dead-letter and status calls name a subscription the delivery service does not run. */
export class UnknownSubscriptionError extends CdgossipError<{ subscriptionId: string }> {
  constructor (subscriptionId: string) {
    super('CDG_NOT_FOUND', 'no webhook subscription with this id', { details: { subscriptionId } })
    this.name = 'UnknownSubscriptionError'
  }
}
