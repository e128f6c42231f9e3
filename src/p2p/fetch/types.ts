import type { SignedEvent } from '../../events/types.js'
import type { TraceRef } from '../../contracts/trace.js'
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'

/** The part of libp2p fetch uses. */
export type FetchLibp2p = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getPeers'>

/** What a requester made of one fetched record. */
export interface FetchedRecord {
  /** `stored`: newly held as fetched-for-trace; `duplicate`: already held */
  status: 'stored' | 'duplicate'
  event: SignedEvent
  /** the references of the request this record answers (the same objects) */
  matched: TraceRef[]
}

/**
 * What fetch needs from the node (p2p never imports store/): the records it holds for a request,
 * and the receive path for a fetched record. receiveFetched verifies the record (signature,
 * schema, consistency), checks that it answers one of `refs`, applies the trust policy and stores
 * it as fetched-for-trace; it throws a CdgossipError for a record it refuses.
 */
export interface FetchComponents {
  libp2p: FetchLibp2p
  /** wire bytes of held records matching the references, from the store's indexes, bounded per reference */
  findRecords(refs: readonly TraceRef[]): AsyncIterable<Uint8Array>
  receiveFetched(bytes: Uint8Array, context: { from: string, refs: readonly TraceRef[] }): Promise<FetchedRecord>
  log?: Logger
}

/** Counters of the fetch protocol, shown at GET /v1/node as `fetch.*`. */
export interface FetchCounters {
  /** requests this node asked peers */
  requested: number
  /** requests to peers that failed (no protocol, timeout, broken answer, busy) */
  failed: number
  /** requests from peers this node answered */
  served: number
  /** records sent in those answers */
  recordsServed: number
  /** requests from peers answered `busy` (too many at once) */
  refusedBusy: number
  /** requests from peers answered `invalid` (malformed, oversized, out of bounds) */
  refusedInvalid: number
}
