import { hash } from 'node:crypto'
import { StrictNoSign } from '@libp2p/interface'
import { MAX_RECORD_BYTES } from '../signing/index.js'
import type { GossipsubOpts } from '@chainsafe/libp2p-gossipsub'
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import type { Message } from '@libp2p/interface'

/** The largest record (wire bytes) any node publishes, forwards or accepts: signing's, one limit everywhere. */
export { MAX_RECORD_BYTES }

/**
 * Room in one gossipsub RPC frame beyond the record: topic, protobuf framing and the IHAVE /
 * IWANT / IDONTWANT / GRAFT / PRUNE control a sender piggybacks on the same frame (IHAVE alone is
 * up to 5,000 ids × ~34 bytes per topic). A frame over the receiver's limit makes gossipsub drop
 * the sender while the connection stays up (P2P-NOTES), so the headroom is generous; records
 * between MAX_RECORD_BYTES and the frame limit still reach the validator and are Rejected, which
 * scores the sender instead of silently cutting it off.
 */
export const RPC_FRAME_HEADROOM_BYTES = 1536 * 1024

/** gossipsub `maxInboundDataLength`: one record plus headroom (2 MiB; the library default is 4 MiB). */
export const MAX_INBOUND_DATA_LENGTH = MAX_RECORD_BYTES + RPC_FRAME_HEADROOM_BYTES

/**
 * Smallest gossip message for which this node sends IDONTWANT (gossipsub 1.2) to its mesh peers;
 * the library sends it from 512 bytes. An IDONTWANT is an RPC of its own to every mesh peer, sent
 * for each message as it arrives. For a single record (~2 KB) that costs more than the duplicate it
 * may save a peer: measured on three nodes at 4,000 single publishes (`node-cpu --alloc`), the
 * receivers allocated 111 KB per event with it and 94 KB without, and used less CPU. Frames of 100
 * records showed no difference either way. Larger messages (frames of many records) still get it:
 * there a duplicate is a large decrypt and decode.
 */
export const IDONTWANT_MIN_BYTES = 16 * 1024

/** @default 1000, gossipsub's own; tests use 100–200 ms for faster mesh formation */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000

/**
 * P6 (IP colocation) weight for real addresses: gossipsub's default, a Sybil brake when many peer
 * IDs share one IP. Loopback is always whitelisted (IP_COLOCATION_WHITELIST): every peer of a
 * local test or demo shares 127.0.0.1, and with the weight active 16 such nodes score −125 and
 * form no mesh at all (P2P-NOTES). Loopback peers are processes on this host, which needs no
 * Sybil defence. Set 0 to disable P6 entirely (e.g. a federation behind one NAT).
 */
export const DEFAULT_IP_COLOCATION_WEIGHT = -5
export const IP_COLOCATION_WHITELIST: readonly string[] = ['127.0.0.1', '::1']

/**
 * Bounds for protobuf decoding of one RPC (the library default is unbounded). A limit that an
 * honest RPC exceeds drops the whole RPC, so each sits above what an honest peer sends:
 * subscriptions match MAX_KNOWN_TOPICS (a peer announces all its topics in one RPC on connect),
 * messages cover an IWANT answer, ids match gossipsub's own 5,000-per-heartbeat IHAVE cap, and
 * peer infos match its PRUNE peer exchange size (16).
 */
export const DECODE_RPC_LIMITS: NonNullable<GossipsubOpts['decodeRpcLimits']> = Object.freeze({
  maxSubscriptions: 1024,
  maxMessages: 1024,
  maxIhaveMessageIDs: 5000,
  maxIwantMessageIDs: 5000,
  maxIdontwantMessageIDs: 5000,
  maxControlMessages: 1024,
  maxPeerInfos: 16
})

/**
 * Score parameters for every topic this node joins. Without per-topic params a Reject costs the
 * sender nothing (P2P-NOTES). Scores sum over topics, and gossipsub caps only a positive total,
 * so what an honest peer earns on its healthy topics offsets a forgery on another:
 * - P4 invalid deliveries, weight −100 and quadratic: one forged record costs 100, two 400.
 *   Decay 0.99 per second keeps a single forgery visible for ~4 minutes, five for longer.
 * - P1 time in mesh (0.01 per second, up to 1) and P2 first deliveries (0.1 each, up to 1): at
 *   most 2 per topic. So one forgery sends any peer sharing fewer than 50 topics negative, and
 *   one sharing up to 5 (the usual) below the graylist threshold (−80), where all its RPCs are
 *   ignored. The library's 1 ms quantum would reach 3,600 in seconds and hide ~60 forgeries.
 * - P3/P3b (mesh delivery rate) off: CI/CD events are bursty and a quiet topic is no fault.
 */
export const TOPIC_SCORE_PARAMS: Readonly<TopicScoreParams> = Object.freeze({
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 100,
  firstMessageDeliveriesWeight: 0.1,
  firstMessageDeliveriesDecay: 0.5,
  firstMessageDeliveriesCap: 10,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 100,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -100,
  invalidMessageDeliveriesDecay: 0.99
})

/**
 * gossipsub's defaults, named so TOPIC_SCORE_PARAMS can be read against them, except
 * opportunistic grafting: the default (20) is far above what a peer can earn per topic here (2),
 * so it would fire on every check; 1 grafts better peers only when the mesh's median peer has
 * earned little.
 */
export const SCORE_THRESHOLDS: Readonly<PeerScoreThresholds> = Object.freeze({
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 10,
  opportunisticGraftThreshold: 1
})

/** The gossipsub message id: sha256 of the wire bytes, which is also the record digest. */
export function messageId (message: Pick<Message, 'data'>): Uint8Array {
  return hash('sha256', message.data, 'buffer')
}

export interface GossipTuning {
  heartbeatIntervalMs: number
  ipColocationWeight: number
}

/**
 * The gossipsub init for a cdgossip node. Records carry their own signatures, so the gossip layer
 * signs nothing (StrictNoSign) and names a message by its content. `allowedTopics` starts empty;
 * the service swaps in a TopicAllowList once the instance exists.
 */
export function gossipsubOptions (tuning: GossipTuning): Partial<GossipsubOpts> {
  const scoreParams: Partial<PeerScoreParams> = {
    topics: {},
    IPColocationFactorWeight: tuning.ipColocationWeight,
    IPColocationFactorWhitelist: new Set(IP_COLOCATION_WHITELIST)
  }
  return {
    globalSignaturePolicy: StrictNoSign,
    msgIdFn: messageId,
    msgIdToStrFn: (id) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex'),
    emitSelf: false,
    floodPublish: true,
    // verdicts are reported by topic-validation.ts once the receive path has run: a copy arriving
    // meanwhile is not sent back to the peer it came from
    asyncValidation: true,
    // we want to know when nobody heard a publish (the record is stored; sync repairs)
    allowPublishToZeroTopicPeers: false,
    // republishing a record already seen is a no-op, not a failure
    ignoreDuplicatePublishError: true,
    // every cdgossip node speaks gossipsub; floodsub peers would bypass mesh and scoring
    fallbackToFloodsub: false,
    doPX: false,
    heartbeatInterval: tuning.heartbeatIntervalMs,
    maxInboundDataLength: MAX_INBOUND_DATA_LENGTH,
    idontwantMinDataSize: IDONTWANT_MIN_BYTES,
    decodeRpcLimits: { ...DECODE_RPC_LIMITS },
    allowedTopics: [],
    scoreParams,
    scoreThresholds: { ...SCORE_THRESHOLDS }
  }
}
