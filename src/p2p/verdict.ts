import { TopicValidatorResult } from '@libp2p/interface'
import { isCdgossipError } from '../errors.js'
import type { ErrorCode } from '../errors.js'

/**
 * The one table from a receive-path error code to a gossip verdict. Reject costs the sending peer
 * score (P4, see gossip-options.ts) and is only for what is objectively invalid for every node:
 * a peer that forwards a forged, malformed, inconsistent, misrouted or oversize record, or a
 * signer's contradiction of its own earlier record, validated nothing. Everything that depends on
 * this node's own policy (trust entries, subscriptions) is Ignore and never costs score, also when
 * the signer itself pushed the record: another node's policy may accept it, and an honest
 * publisher must not be cut off because one receiver does not trust it. Duplicates
 * and local failures (store down, stopping) are Ignore too.
 * `Record<ErrorCode, …>` makes the compiler refuse a new code until it is placed here.
 */
export const GOSSIP_VERDICTS: Readonly<Record<ErrorCode, TopicValidatorResult>> = Object.freeze({
  CDG_INVALID_EVENT: TopicValidatorResult.Reject,
  CDG_UNSUPPORTED_SPEC_VERSION: TopicValidatorResult.Reject,
  CDG_INVALID_CLOUDEVENT: TopicValidatorResult.Reject,
  CDG_BAD_SIGNATURE: TopicValidatorResult.Reject,
  // this node's trust policy refuses it, whoever sent it: policy, not misbehaviour
  CDG_UNTRUSTED_SIGNER: TopicValidatorResult.Ignore,
  CDG_UNTRUSTED_FORWARDED: TopicValidatorResult.Ignore,
  CDG_DUPLICATE_EVENT: TopicValidatorResult.Ignore,
  // a second record with the same (source, id) and other content is signed by the origin:
  // whoever forwards it relays an equivocation, which honest nodes must not spread
  CDG_CONFLICTING_EVENT: TopicValidatorResult.Reject,
  CDG_EVENT_TOO_LARGE: TopicValidatorResult.Reject,
  CDG_UNSUPPORTED_MEDIA_TYPE: TopicValidatorResult.Ignore,
  CDG_INVALID_REQUEST: TopicValidatorResult.Ignore,
  CDG_NOT_FOUND: TopicValidatorResult.Ignore,
  CDG_UNAUTHORIZED: TopicValidatorResult.Ignore,
  CDG_READ_ONLY_SESSION: TopicValidatorResult.Ignore,
  CDG_NOT_STARTED: TopicValidatorResult.Ignore,
  CDG_CONFIG: TopicValidatorResult.Ignore,
  CDG_TOPIC_MISMATCH: TopicValidatorResult.Reject,
  CDG_SYNC_PROTOCOL: TopicValidatorResult.Ignore,
  CDG_TIMEOUT: TopicValidatorResult.Ignore,
  CDG_ABORTED: TopicValidatorResult.Ignore,
  CDG_RATE_LIMITED: TopicValidatorResult.Ignore,
  // whether a manifest chain verifies depends on the root key a node holds (a chain forked off a
  // retired root verifies for a node that knows only that root): never the forwarder's fault
  CDG_INVALID_MANIFEST: TopicValidatorResult.Ignore,
  CDG_STALE_MANIFEST: TopicValidatorResult.Ignore,
  CDG_STORE: TopicValidatorResult.Ignore
})

/** The verdict for anything the receive path threw; non-cdgossip errors are bugs, never the peer's fault. */
export function verdictFor (err: unknown): TopicValidatorResult {
  return isCdgossipError(err) ? GOSSIP_VERDICTS[err.code] : TopicValidatorResult.Ignore
}
