import type { EventClass } from '../events/types.js'
import type { GossipCounters } from '../p2p/index.js'
import type { StoreStats } from '../contracts/state-section.js'
import type { SyncState } from '../contracts/node-facade.js'
import type { DeliveryAttempt, DeliveryStatus } from '../delivery/index.js'

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
