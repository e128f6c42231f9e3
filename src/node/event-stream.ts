import type { StoredEvent } from '../events/records.js'
import type { StreamOptions } from '../contracts/node-facade.js'
import { NotFoundError } from '../api/index.js'
import { openEventStream } from '../delivery/index.js'
import { eventQueryPredicate, type EventStore } from '../store/index.js'
import { subscriptionMatches, toMatchable, type SubscriptionRegistry } from '../subscriptions/index.js'
import type { TrustPolicy } from '../trust/index.js'

/** Pending events per SSE client before it is dropped (it resumes with Last-Event-ID): bounds memory per slow client. */
export const STREAM_MAX_BUFFERED = 1000
/** SSE comment heartbeat: keeps idle connections through proxies that close after 30-60 s. */
export const STREAM_HEARTBEAT_MS = 15_000

export interface NodeStreamSources {
  store: EventStore
  subscriptions: SubscriptionRegistry
  trust: TrustPolicy
  onStored: (listener: (stored: StoredEvent) => void) => () => void
  /** the record with `signerRevoked` set when its signer's community revoked it since (queryEvents does the same) */
  flagRevoked: (stored: StoredEvent) => StoredEvent
}

/** GET /v1/stream: stored events after a cursor, then live ones, filtered by a query or by a subscription's rules. */
export async function openNodeStream (s: NodeStreamSources, options: StreamOptions): Promise<AsyncGenerator<string, void, undefined>> {
  const { store } = s
  // a bad cursor must fail the request (400), not a stream that has already answered 200
  if (options.after !== undefined) await store.readAfter(options.after, 1)
  let filter: (stored: StoredEvent) => boolean
  if (options.subscription !== undefined) {
    const sub = s.subscriptions.get(options.subscription)
    if (sub === undefined) throw new NotFoundError(`no subscription ${options.subscription}`)
    const { trust } = s
    filter = stored => subscriptionMatches(sub, toMatchable(stored), peerId => trust.nameOf(peerId))
  } else {
    filter = eventQueryPredicate(options.query)
  }
  return openEventStream({
    source: {
      readAfter: async (cursor, limit) => (await store.readAfter(cursor, limit)).map(s.flagRevoked),
      onStored: listener => s.onStored(stored => { listener(s.flagRevoked(stored)) })
    },
    ...(options.after === undefined ? {} : { after: options.after }),
    ...(options.last === undefined ? {} : { last: { count: options.last, lastCursor: () => store.lastCursor() } }),
    filter,
    maxBuffered: STREAM_MAX_BUFFERED,
    heartbeatMs: STREAM_HEARTBEAT_MS,
    signal: options.signal
  })
}
