import type { EventClass } from '../../events/types.js'
import type { SequenceState } from '../../events/records.js'
import type { P2PComponents } from '../types.js'
import type { RefusedSequences } from './refusal-ledger.js'
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'

/** The part of libp2p sync uses: its protocol handler, dialling, connected peers, identify events. */
export type SyncLibp2p = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getPeers' | 'addEventListener' | 'removeEventListener'>

/** Where a subscription to a class starts: only what is new (`now`), or all history (`beginning`). */
export type SyncStartPoint = 'now' | 'beginning'

/**
 * What sync needs from the node. receiveRecord is P2PComponents'; sequenceStates and
 * readSequenceRange read the store for the sync server and the rounds (sync never imports store/
 * or api/); the rest describe what the node wants.
 *
 * Start points and floors: sync never fetches a sequence <= the floor of an (origin, class) pair.
 * The first time sync meets a pair with no floor it fixes one and hands it to setFloor:
 * - through a peer's summary (initialFloor in floor-policy.ts): `beginning` → 0, everything from
 *   sequence 1; `now` → the highest sequence the peer announces, so history from before the node
 *   learned of the pair is not backfilled, while everything after it is, gaps included;
 * - through requestGap(origin, class, 1, n) (the node holds nothing and record n+1 just arrived
 *   live): `beginning` → 0; `now` → n, the record that revealed the pair is the first one wanted.
 * Without floor/setFloor, floors live in memory only (fixed again after a restart by the same
 * rules, which still backfill pairs held from sequence 1). A node that persists them should reset
 * a class's floors to 0 when a `beginning` subscription for it is created.
 */
export interface SyncComponents extends Pick<P2PComponents, 'receiveRecord'> {
  libp2p: SyncLibp2p
  /** What this node holds per (origin, class) for the given classes. */
  sequenceStates(eventClasses: EventClass[]): Promise<SequenceState[]>
  /** Wire bytes of held records origin/class with from <= sequence <= to, ascending, streamed. */
  readSequenceRange(origin: string, eventClass: EventClass, from: number, to: number): AsyncIterable<Uint8Array>
  /** concrete classes the node's subscriptions want (patterns expanded), i.e. the topics it joined */
  wantedClasses(): EventClass[]
  /** the earliest start among the subscriptions that want this class; `now` when absent */
  startPoint?(eventClass: EventClass): SyncStartPoint
  /** the persisted floor of a pair, undefined when none was set yet */
  floor?(origin: string, eventClass: EventClass): number | undefined | Promise<number | undefined>
  /** persist the floor sync picked for a pair that had none */
  setFloor?(origin: string, eventClass: EventClass, floor: number): void | Promise<void>
  /**
   * Sequences this node refused by its own policy: known, not missing. Sync neither fetches them
   * nor counts them as gaps, and a pair whose only holes are refusals is complete.
   */
  refusals?: RefusedSequences
  /**
   * Told, at the start of a round, of a pair whose gap stayed open through STALE_GAP_ROUNDS rounds
   * or more (`missing` sequences no peer supplied); the node logs it.
   */
  staleGap?(origin: string, eventClass: EventClass, missing: number, rounds: number): void
  log?: Logger
}

export interface SyncInit {
  /**
   * Pause between background rounds (each asks a few connected peers for their summary).
   * @default SYNC_INTERVAL_MS (30 s)
   */
  intervalMs?: number
  /**
   * Budget for one request (dial + summary, or dial + one page of records including their
   * verification). A peer that does not finish in time is cut off and penalised.
   * @default REQUEST_TIMEOUT_MS (10 s)
   */
  requestTimeoutMs?: number
  /**
   * Records per range request, at most PAGE_SIZE.
   * @default PAGE_SIZE (500)
   */
  pageSize?: number
  /**
   * Peers synced with at the same time.
   * @default MAX_CONCURRENT_SESSIONS (4)
   */
  maxConcurrentSessions?: number
  /**
   * Peers tried, best score first, for one gap request.
   * @default MAX_GAP_PEERS (3)
   */
  maxGapPeers?: number
  /**
   * First backoff after a failure; doubles with each consecutive failure.
   * @default BACKOFF_BASE_MS (5 s)
   */
  backoffBaseMs?: number
  /**
   * Longest backoff.
   * @default BACKOFF_MAX_MS (10 min)
   */
  backoffMaxMs?: number
  /**
   * How long sequences above a pair's contiguous point that were already handled (stored,
   * duplicate, refused by trust) are not asked for again.
   * @default SETTLED_TTL_MS (10 min)
   */
  settledTtlMs?: number
  /**
   * Inbound sync streams per connection; keep it above MAX_STREAMS_PER_PEER, what one peer opens.
   * @default MAX_INBOUND_STREAMS (8)
   */
  maxInboundStreams?: number
  /**
   * Inbound sync requests served at once across all peers; more are answered `busy`.
   * @default MAX_CONCURRENT_SERVES (16)
   */
  maxConcurrentServes?: number
  /**
   * Time a requester gets to send its request once the stream is open.
   * @default SERVER_REQUEST_TIMEOUT_MS (5 s)
   */
  serverRequestTimeoutMs?: number
  /**
   * Time to answer one request, however slowly the requester reads.
   * @default SERVER_RESPONSE_TIMEOUT_MS (30 s)
   */
  serverResponseTimeoutMs?: number
  /**
   * Bytes of records in one range response; a longer page ends early with `truncated`.
   * @default MAX_PAGE_BYTES (16 MiB)
   */
  maxPageBytes?: number
}

export type { SyncPeerState, SyncState } from '../../contracts/node-facade.js'
