import type { TopicValidatorResult } from '@libp2p/interface'
import type { ErrorCode } from '../errors.js'
import type { GossipCounters, ReceiveOutcome } from './types.js'

/**
 * Keys of `GossipCounters.received`: an outcome (`stored`, `duplicate`, `relayed`), or a verdict
 * and the reason, `reject:CDG_BAD_SIGNATURE`, `ignore:CDG_DUPLICATE_EVENT`, `ignore:unexpected`
 * (a non-cdgossip error: a bug in the receive path), `ignore:relay-limited` (a genuine record of
 * an untrusted origin over its relay budget). Codes come from a closed list, so the key space is
 * bounded and safe as a metric label.
 */
export type ReceivedKey =
  | ReceiveOutcome['status']
  /** a gossip frame over MAX_INBOUND_DATA_LENGTH: gossipsub drops it (and the peer's stream) unread */
  | 'dropped:frame-too-large'
  | `${TopicValidatorResult}:${ErrorCode | 'unexpected' | 'relay-limited'}`

export class GossipCounterSet {
  private published = 0
  private readonly received = new Map<ReceivedKey, number>()

  countPublished (): void {
    this.published++
  }

  countReceived (key: ReceivedKey): void {
    this.received.set(key, (this.received.get(key) ?? 0) + 1)
  }

  /** A copy: callers may keep or mutate it. */
  snapshot (): GossipCounters {
    return { published: this.published, received: Object.fromEntries(this.received) }
  }
}
