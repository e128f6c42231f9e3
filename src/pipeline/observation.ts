import { isCdgossipError } from '../errors.js'
import type { ErrorCode } from '../errors.js'
import type { EventObservation } from '../contracts/observations.js'

/** Who and what a received record was about, when known (receive path only). */
interface Provenance {
  /** the peer that handed the record over (gossip, sync) */
  from?: string
  /** the signer, once its signature verified */
  origin?: string
  sequence?: number
}

/**
 * What became of one event in a pipeline, for metrics, per-peer figures and logs (node.ts hands
 * these on). `stored` is a newly stored record (for `publish`: signed and stored); `relayed` a
 * verified record no subscription keeps; `refused` carries the error code of a record refused
 * for being invalid (or a local failure); `policy` a genuine record this node's own trust policy
 * refused although a subscription would keep it (`policy` says why: `unknown-signer`,
 * `source-not-allowed`, `class-not-allowed`).
 */
export type PipelineObservation = EventObservation & Provenance

/** Error code of a refusal; `unexpected` for anything that is not a CdgossipError (a bug). */
export function refusalReason (err: unknown): ErrorCode | 'unexpected' {
  return isCdgossipError(err) ? err.code : 'unexpected'
}
