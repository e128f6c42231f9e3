import { CdgossipError } from '../errors.js'

/** A record arrived on (or was served for) a class other than its own: misrouted or forged. */
export class TopicMismatchError extends CdgossipError<{ expected: string, actual: string }> {
  constructor (expected: string, actual: string) {
    super('CDG_TOPIC_MISMATCH', `event of class ${actual} arrived on the topic of ${expected}`, { details: { expected, actual } })
    this.name = 'TopicMismatchError'
  }
}

export interface RefusedByPolicyDetails {
  origin: string
  eventClass: string
  /** the genuine record's sequence: sync settles exactly it, the node remembers it as refused */
  sequence: number
  reason: string
  /** the peer that handed it over */
  from?: string
}

/**
 * A genuine record this node's trust policy refuses. `CDG_UNTRUSTED_SIGNER` when its signer
 * pushed it (or it came from a local import), `CDG_UNTRUSTED_FORWARDED` when a third peer
 * forwarded it; gossip Ignores both (p2p/verdict.ts): a receiver's policy is not the sender's fault.
 */
export class RefusedByPolicyError extends CdgossipError<RefusedByPolicyDetails> {
  constructor (cause: CdgossipError, details: RefusedByPolicyDetails) {
    const forwarded = details.from !== undefined && details.from !== details.origin
    super(forwarded ? 'CDG_UNTRUSTED_FORWARDED' : 'CDG_UNTRUSTED_SIGNER', cause.message, { details, cause })
    this.name = 'RefusedByPolicyError'
  }
}
