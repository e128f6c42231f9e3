export { P2PService, DEFAULT_TARGET_CONNECTIONS, DEFAULT_LISTEN, DEFAULT_INBOUND_CONNECTION_THRESHOLD, MAX_INCOMING_PENDING_CONNECTIONS, DEFAULT_WATCHDOG_INTERVAL_MS, DIAL_TIMEOUT_MS } from './p2p-node.js'
export type { P2PInit, PeerMemory, P2PServiceComponents, P2PServices, P2PLibp2p, P2PStatus } from './p2p-node.js'
export { GOSSIP_VERDICTS, verdictFor } from './verdict.js'
export { createTopicValidator } from './topic-validator.js'
export type { TopicValidatorComponents, TopicValidatorInit } from './topic-validator.js'
export { GossipCounterSet } from './counters.js'
export type { ReceivedKey } from './counters.js'
export { TopicAllowList, topicForClass, MAX_TOPIC_LENGTH, MAX_KNOWN_TOPICS } from './topic-allow-list.js'
export {
  MAX_RECORD_BYTES,
  RPC_FRAME_HEADROOM_BYTES,
  MAX_INBOUND_DATA_LENGTH,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_IP_COLOCATION_WEIGHT,
  IP_COLOCATION_WHITELIST,
  DECODE_RPC_LIMITS,
  IDONTWANT_MIN_BYTES,
  TOPIC_SCORE_PARAMS,
  SCORE_THRESHOLDS,
  messageId
} from './gossip-options.js'
export { decodeRecordFrame, encodeRecordFrame, isRecordFrame, FRAME_MAGIC, MAX_FRAME_BYTES, MAX_FRAME_RECORDS, MalformedFrameError } from './record-frame.js'
export { RecordTooLargeError, InvalidEventClassError, P2PConfigError, NotStartedError } from './errors.js'
export type { FrameRecordOutcome, P2PComponents, ReceiveContext, ReceiveOutcome, GossipCounters, PeerInfo, ConnectionVia } from './types.js'
export { communityHeartbeatProtocol, serveHeartbeats, sendHeartbeat, MAX_HEARTBEAT_BYTES } from './community-heartbeat.js'
export type { HeartbeatHandler } from './community-heartbeat.js'
export { CommunityChannel, communityTopic, communityExchangeProtocol, MAX_CONTROL_MESSAGE_BYTES, DEFAULT_REPUBLISH_MS } from './community-channel.js'
export type { CommunityChannelComponents, CommunityChannelInit, ControlVerdict } from './community-channel.js'
