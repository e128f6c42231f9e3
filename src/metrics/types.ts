import type { EventClass } from '../events/types.js'
import type { ErrorCode } from '../errors.js'
import type { GossipCounters } from '../p2p/index.js'
import type { SyncState } from '../p2p/sync/index.js'
import type { DeliveryAttempt, DeliveryStatus } from '../delivery/index.js'
import type { StoreStats } from '../store/index.js'

/** How an event reached the node: published by a local tool, gossip, sync, or an import. */
export type EventPath = 'publish' | 'gossip' | 'sync' | 'import'

/** One event through the publish or receive pipeline (the pipelines' `observe` hook). */
export type EventObservation =
  | {
    via: EventPath
    /** `stored` = newly stored (for `publish`: signed and published); `relayed` = forwarded only */
    outcome: 'stored' | 'relayed' | 'duplicate'
    eventClass: EventClass
  }
  | {
    via: EventPath
    outcome: 'refused'
    /** the topic's or requested class when known, else the record's own; undefined before decoding */
    eventClass: EventClass | undefined
    /** the error code; `unexpected` for a non-cdgossip error (a bug) */
    reason: ErrorCode | 'unexpected'
  }
  | {
    via: EventPath
    /** a genuine record this node's trust policy refused (not an invalid one) */
    outcome: 'policy'
    eventClass: EventClass
    /** `unknown-signer`, `source-not-allowed` or `class-not-allowed` */
    policy: string
  }

/** One finished HTTP request, as the API reports it. */
export interface HttpRequestSample {
  method: string
  /** the route pattern (`/v1/events/:digest`), undefined when no route matched */
  route: string | undefined
  statusCode: number
  durationSeconds: number
}

/** The parts of the running node the gauges read at scrape time (undefined while not running). */
export interface MetricsSources {
  store(): { stats(): Promise<StoreStats> } | undefined
  p2p(): P2PSource | undefined
  sync(): { state(): SyncState } | undefined
  /** sequences known refused by policy, by reason (a gauge) */
  refusals?(): { reasons: Record<string, number> } | undefined
  delivery(): { statuses(): Promise<DeliveryStatus[]> } | undefined
  /** constant facts for `cdgossip_node_info` */
  info(): { version: string, network: string, peerId: string } | undefined
}

/** What the metrics read of P2PService. */
export interface P2PSource {
  counters(): GossipCounters
  peers(): readonly unknown[]
  /** joined topics */
  topics(): string[]
  meshPeers(eventClass: EventClass): string[]
  subscribers(eventClass: EventClass): string[]
}

export type { DeliveryAttempt }
