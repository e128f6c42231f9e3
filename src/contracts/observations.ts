import type { ErrorCode } from '../errors.js'
import type { EventClass } from '../events/types.js'

/**
 * What the pipelines report of each event they handle, read by metrics (and, with provenance
 * added, by the receive monitor): one definition both sides import.
 */

/** How an event reached the node: published by a local tool, gossip, sync, an import, or fetched for a trace. */
export type EventPath = 'publish' | 'gossip' | 'sync' | 'import' | 'fetch'

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
