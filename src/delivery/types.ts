import type { StoredEvent } from '../events/records.js'
import type { SignedEvent } from '../events/types.js'
import type { Subscription } from '../subscriptions/types.js'

/**
 * The narrow store reader delivery works through (delivery never imports store/ itself).
 * node.ts adapts the event store to it.
 */
export interface DeliverySource {
  /** Up to `limit` records strictly after `cursor` (from the first record when undefined), in arrival order. */
  readAfter(cursor: string | undefined, limit: number): Promise<StoredEvent[]>
  /** Cursor of the newest stored record; undefined when the store is empty. */
  lastCursor(): string | undefined
  /**
   * The cursor after which the records received at or after `iso` follow: readAfter(result) starts
   * at the first record received at or after that time. Undefined means "from the first record".
   */
  cursorAtTime(iso: string): Promise<string | undefined>
  /** One record by digest, for re-driving dead letters; undefined when the store does not hold it. */
  getEvent(digest: string): Promise<StoredEvent | undefined>
  /**
   * Called after each new record is stored (readable through readAfter), in store order.
   * Returns the unsubscribe function.
   */
  onStored(listener: (stored: StoredEvent) => void): () => void
}

/** What the SSE stream needs of the store: a subset of DeliverySource. */
export type EventStreamSource = Pick<DeliverySource, 'readAfter' | 'onStored'>

/** Decides whether a subscription wants a record (subscriptions/ owns the rules). */
export type SubscriptionMatcher = (subscription: Subscription, stored: StoredEvent) => boolean

export type { DeadLetter } from '../contracts/node-facade.js'

/** The budget of the event a worker is retrying, persisted so a restart does not reset it. */
export interface DeliveryHead {
  digest: string
  attempts: number
  /** ISO time of the first attempt in this round */
  firstAttemptAt: string
}

/** One subscription's delivery progress as persisted in its StateSection (key = subscription id). */
export interface DeliveryProgress {
  /** cursor of the last record acknowledged, dead-lettered or skipped; undefined = before the first record */
  cursor?: string
  delivered: number
  attempts: number
  failures: number
  lastStatus?: number
  lastError?: string
  lastDeliveredAt?: string
  head?: DeliveryHead
  /** digests of dead letters queued for re-delivery, in the order they will be sent */
  redrive: string[]
}

export type DeliveryState =
  /** reading the store or sending */
  | 'delivering'
  /** waiting out a backoff before the next attempt */
  | 'retrying'
  /** caught up; waiting for new records */
  | 'idle'
  /** the dead-letter list is full: nothing new is delivered until it shrinks (POST or DELETE /v1/subscriptions/{id}/dead-letters) */
  | 'paused'
  /** the sink is unusable (bad URL or headers), or its credential cannot be read; see lastError */
  | 'invalid'
  /** the service is not running */
  | 'stopped'

export interface DeliveryStatus {
  subscriptionId: string
  state: DeliveryState
  cursor?: string
  /** events acknowledged with a 2xx, over the subscription's life */
  delivered: number
  /** HTTP attempts, over the subscription's life */
  attempts: number
  /** failed attempts, over the subscription's life */
  failures: number
  deadLetters: number
  /** dead letters queued for re-delivery */
  redrivePending: number
  /** matching records after the cursor not yet acknowledged or dead-lettered */
  lag: number
  /** true when counting stopped at the scan limit: the real lag is larger */
  lagTruncated: boolean
  lastStatus?: number
  lastError?: string
  lastDeliveredAt?: string
}

/** What one HTTP attempt led to, reported to `onAttempt` (metrics, logs). */
export interface DeliveryAttempt {
  subscriptionId: string
  digest: string
  cursor: string
  /** attempt number within this round, from 1 */
  attempt: number
  result: 'delivered' | 'retry' | 'dead-letter'
  /** true when this attempt re-drives a dead letter */
  redrive: boolean
  status?: number
  error?: string
  /** result 'retry' only: the wait before the next attempt */
  retryInMs?: number
}


/**
 * Delivery progress shared among the nodes of a community (only one runs the sinks at a time):
 * what any of them handled is skipped here, and what this node handles is told.
 */
export interface SharedProgress {
  /** whether some node of the community already handled the record for the subscription */
  has(subscriptionId: string, event: SignedEvent): boolean
  /** this node handled the record (delivered, dead-lettered or passed over as not matching) */
  handled(subscriptionId: string, event: SignedEvent): void
}
