export {
  SyncService, SYNC_INTERVAL_MS, REQUEST_TIMEOUT_MS, MAX_CONCURRENT_SESSIONS, MAX_GAP_PEERS, BACKOFF_BASE_MS,
  BACKOFF_MAX_MS, SETTLED_TTL_MS, MAX_INBOUND_STREAMS, MAX_STREAMS_PER_PEER, IDENTIFY_RESYNC_MS, MAX_GAP_SPAN, STALE_GAP_ROUNDS
} from './sync-service.js'
export { RefusalLedger, MAX_REFUSAL_PAIRS, MAX_REFUSAL_INTERVALS, REFUSAL_FLUSH_MS, MAX_REFUSAL_ORIGINS_SHOWN } from './refusal-ledger.js'
export type { PersistedRefusals, Refusal, RefusalSummary, OriginRefusals, RefusedSequences, RefusalLedgerComponents, RefusalLedgerInit } from './refusal-ledger.js'
export { SYNC_PROTOCOL, PAGE_SIZE, MAX_RECORD_BYTES, MAX_SUMMARY_CLASSES, MAX_SUMMARY_ENTRIES } from './protocol.js'
export { MAX_PAGE_BYTES, MAX_CONCURRENT_SERVES, SERVER_REQUEST_TIMEOUT_MS, SERVER_RESPONSE_TIMEOUT_MS } from './sync-server.js'
export { initialFloor } from './floor-policy.js'
export { SyncFloors } from './floors.js'
export { SyncProtocolError, SyncPeerRefusedError, SyncTimeoutError, SyncAbortedError } from './errors.js'
export type { SyncComponents, SyncInit, SyncLibp2p, SyncStartPoint, SyncState, SyncPeerState } from './types.js'
export { IntervalSet } from './intervals.js'
export type { Interval } from './intervals.js'
