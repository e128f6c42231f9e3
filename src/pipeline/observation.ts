import { isCdgossipError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import type { EventClass } from '../events/types.js'

/**
 * What became of one event in a pipeline, for metrics (node.ts hands these to metrics/).
 * `stored` is a newly stored record (for `publish`: signed and stored); `relayed` a verified
 * record no subscription keeps; `refused` carries the error code.
 */
export type PipelineObservation =
  | { via: 'publish' | 'gossip' | 'sync' | 'import', outcome: 'stored' | 'relayed' | 'duplicate', eventClass: EventClass }
  | { via: 'publish' | 'gossip' | 'sync' | 'import', outcome: 'refused', eventClass: EventClass | undefined, reason: ErrorCode | 'unexpected' }

/** Error code of a refusal; `unexpected` for anything that is not a CdgossipError (a bug). */
export function refusalReason (err: unknown): ErrorCode | 'unexpected' {
  return isCdgossipError(err) ? err.code : 'unexpected'
}
