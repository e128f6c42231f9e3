/**
 * The record vocabulary every part shares (store, delivery, api, p2p sync, CLI): what a node holds
 * of an event, how it is asked for, and what a sequence looks like. It lives in events/ so that no
 * part has to import store/ to speak of a stored record.
 */
import type { EventClass, SignedEvent } from './types.js'

/** A record as the local store holds it: the signed event plus local facts about its arrival. */
export interface StoredEvent {
  readonly event: SignedEvent
  /** opaque, local arrival order; the resume point for paging, SSE and delivery */
  readonly cursor: string
  /** ISO time this node stored it */
  readonly receivedAt: string
  /** false when accepted under the `open` trust mode from a signer outside the allow-list */
  readonly trusted: boolean
  /**
   * set in query answers when the signer's community has since revoked its key: `since` is when
   * this node learned of it (the record arrived before, or it would have been refused)
   */
  readonly signerRevoked?: { since: string }
}

/** Filters shared by GET /v1/events, the SSE stream, subscriptions' replays and export. */
export interface EventQuery {
  /** exact CDEvents type (`dev.cdevents.pipelinerun.finished.0.3.0`), a class (`pipelinerun.finished`) or a class pattern (`artifact.*`, `*`) */
  type?: string
  /** CloudEvent source prefix */
  source?: string
  /** subject id (exact) */
  subject?: string
  chainId?: string
  /** origin peer ID (exact) */
  origin?: string
  /** event time bounds (context.timestamp), inclusive, ISO 8601 */
  since?: string
  until?: string
  /** only trusted (true) or only untrusted (false) records; both when absent */
  trusted?: boolean
  /** page size; the store clamps it to MAX_PAGE_SIZE */
  limit?: number
  /** return records strictly after this cursor (arrival order) */
  cursor?: string
}

export interface EventPage {
  events: StoredEvent[]
  /**
   * where to continue, when more may follow: the cursor of the last record returned, or, when
   * the store stopped a post-filtered scan at its bound, the cursor of the last record it
   * examined (the page may then hold fewer than `limit` records, even none). Absent: nothing more
   * matched when the call was made.
   */
  next?: string
}

export type AppendOutcome =
  /** `highestBefore`: the highest sequence held for its (origin, class) just before this record */
  | { status: 'stored', stored: StoredEvent, highestBefore: number }
  | { status: 'duplicate', stored: StoredEvent }

/** What this store holds of one (origin, class) sequence. */
export interface SequenceState {
  origin: string
  eventClass: EventClass
  /** highest sequence held (0 when none) */
  highest: number
  /** every sequence in 1..contiguous is held (0 when sequence 1 is missing) */
  contiguous: number
}

