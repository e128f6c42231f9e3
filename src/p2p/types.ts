import type { EventClass, SignedEvent } from '../events/types.js'
import type { SequenceState } from '../store/types.js'

/**
 * What p2p/ needs from the rest of the node, as functions (p2p never imports store/ or api/).
 * node.ts supplies them.
 */
export interface P2PComponents {
  /**
   * The whole receive path for one record from the network (gossip or sync): decode, verify the
   * signature, validate the CDEvent, check trust and consistency with `expectedClass`, then store
   * when a subscription wants it. Resolves with what happened; throws a CdgossipError whose code
   * p2p maps to a verdict (Reject for forgeries/malformed, Ignore for duplicates).
   * Size is checked by p2p before this is called.
   */
  receiveRecord(bytes: Uint8Array, context: ReceiveContext): Promise<ReceiveOutcome>
  /** For sync: what this node holds per (origin, class) for the given classes. */
  sequenceStates(eventClasses: EventClass[]): Promise<SequenceState[]>
  /** For sync: wire bytes of held records origin/class with from <= sequence <= to, ascending, streamed. */
  readSequenceRange(origin: string, eventClass: EventClass, from: number, to: number): AsyncIterable<Uint8Array>
}

export interface ReceiveContext {
  /** the class named by the gossip topic, or requested in a sync range */
  expectedClass: EventClass
  /** the peer that handed us the bytes (not the origin) */
  from: string
  via: 'gossip' | 'sync'
}

export type ReceiveOutcome =
  /** verified and stored */
  | { status: 'stored', event: SignedEvent }
  /** verified; already held */
  | { status: 'duplicate', event: SignedEvent }
  /**
   * verified; no subscription wants it here (or this node's trust refuses it), forwarded only
   * (relay). `forward: false`: not forwarded either (an untrusted origin over its relay budget,
   * or a class this node does not relay), so gossip Ignores it. @default forward true
   */
  | { status: 'relayed', event: SignedEvent, forward?: boolean }

/** Counters the node exposes at GET /v1/node and as metrics. */
export interface GossipCounters {
  published: number
  /** by outcome: stored, duplicate, relayed, and reject/ignore reasons by error code */
  received: Record<string, number>
}

/**
 * How a connection came about: a bootstrap entry, peer exchange (`discovery`), a peer connected
 * before (`remembered`: the peers file, or earlier in this run), mDNS, the peer dialling us
 * (`inbound`), or any other dial (`dial`: the API, libp2p's own redials).
 */
export type ConnectionVia = 'bootstrap' | 'discovery' | 'remembered' | 'mdns' | 'inbound' | 'dial'

export interface PeerInfo {
  peerId: string
  addresses: string[]
  /** topics the peer announced that we also joined */
  topics: string[]
  /** ISO time the current connection was established */
  connectedSince?: string
  via?: ConnectionVia
  /** the error of the last failed dial of this peer since this node started (it may have succeeded since) */
  lastDialError?: string
}
