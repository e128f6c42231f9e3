import { CdgossipError } from '../errors.js'

/** A record arrived on (or was served for) a class other than its own: misrouted or forged. */
export class TopicMismatchError extends CdgossipError<{ expected: string, actual: string }> {
  constructor (expected: string, actual: string) {
    super('CDG_TOPIC_MISMATCH', `event of class ${actual} arrived on the topic of ${expected}`, { details: { expected, actual } })
    this.name = 'TopicMismatchError'
  }
}
