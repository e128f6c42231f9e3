export {
  EventStore,
  createEventStore,
  MAX_APPEND_BATCH
} from './event-store.js'
export { eventQueryPredicate, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE, MAX_FILTER_LENGTH } from './query-language.js'
export { DEFAULT_MAX_SCAN, DEFAULT_TIME_RANGE_COLLECT } from './query-planner.js'
export { MAX_SECTION_KEY_LENGTH } from './sections.js'
export { DEFAULT_CACHE_SIZE, DEFAULT_WRITE_BUFFER_SIZE } from './layout.js'
export { MAX_MISSING_SEQUENCES, MAX_SEQUENCE_STATE_CLASSES } from './sequence-index.js'
export type { EventStoreComponents, EventStoreInit } from './event-store.js'
export type { StoreStats } from './layout.js'
export { ConflictingEventError, CorruptRecordError, StoreError, UnstorableEventError } from './errors.js'
export type { ConflictDetails } from './errors.js'
export type { AppendOutcome, EventPage, EventQuery, SequenceState, StateSection, StoredEvent } from './types.js'
export { eventViewJson } from './event-view.js'
export type { EventView } from './event-view.js'
export { takeGroup } from './take-group.js'
