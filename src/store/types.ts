export type { AppendOutcome, EventPage, EventQuery, SequenceState, StoredEvent } from '../events/records.js'
export type { StateSection } from '../contracts/state-section.js'
