import type { CdgossipError } from '../errors.js'
import type { EventClass, SignedEvent } from '../events/types.js'

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
  /**
   * The receive path for the records of one frame (record-frame.ts), together: every record is
   * decoded, verified and validated before any is stored, and the first objectively invalid one
   * throws (gossip Rejects the frame, nothing of it is stored). Otherwise resolves with each
   * record's outcome in frame order, a record this node's policy refuses as `refused` with its error.
   */
  receiveFrame(records: readonly Uint8Array[], context: ReceiveContext): Promise<FrameRecordOutcome[]>
}

export interface ReceiveContext {
  /** the class named by the gossip topic, or requested in a sync range */
  expectedClass: EventClass
  /** the peer that handed us the bytes (not the origin) */
  from: string
  /** `fetch`: asked for by a trace (`?resolve=true`), kept as fetched-for-trace */
  via: 'gossip' | 'sync' | 'fetch'
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

/** What became of one record of a frame: received, or refused by this node's policy (never the sender's fault). */
export type FrameRecordOutcome = ReceiveOutcome | { status: 'refused', error: CdgossipError }

/** Counters the node exposes at GET /v1/node and as metrics. */
export interface GossipCounters {
  published: number
  /** by outcome: stored, duplicate, relayed, and reject/ignore reasons by error code */
  received: Record<string, number>
}

export type { ConnectionVia, PeerInfo } from '../contracts/node-facade.js'
