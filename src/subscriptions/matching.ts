import { classMatchesPattern } from '../events/index.js'
import type { SignedEvent } from '../events/index.js'
import type { StoredEvent } from '../events/records.js'
import type { MatchableEvent, Subscription } from './types.js'

/** Trust name of a peer ID (`self` for this node); `TrustPolicy.nameOf` fits. */
export type ResolveName = (peerId: string) => string | undefined

/** The facts subscription filters look at, from an event already verified and trust-checked. */
export function matchableFrom (event: SignedEvent, trusted: boolean): MatchableEvent {
  const outcome = event.cdevent.subject.content.outcome
  const matchable: MatchableEvent = {
    eventClass: event.eventClass,
    origin: event.origin,
    source: event.attributes.source,
    subjectId: event.cdevent.subject.id,
    trusted
  }
  if (typeof outcome === 'string') matchable.outcome = outcome
  return matchable
}

export function toMatchable (stored: StoredEvent): MatchableEvent {
  return matchableFrom(stored.event, stored.trusted)
}

/**
 * Whether one subscription wants one event. Every given filter must hold:
 * a class pattern matches; the origin is one of `filter.origins` by peer ID or trust name;
 * the source starts with `filter.sourcePrefix` (plain prefix, as the store's `source` query);
 * subject id and outcome are equal; and untrusted events only when `includeUntrusted`.
 */
export function subscriptionMatches (sub: Subscription, event: MatchableEvent, resolveName: ResolveName): boolean {
  if (!event.trusted && !sub.includeUntrusted) return false
  if (!sub.classes.some(pattern => classMatchesPattern(pattern, event.eventClass))) return false
  const { filter } = sub
  if (filter.sourcePrefix !== undefined && !event.source.startsWith(filter.sourcePrefix)) return false
  if (filter.subject !== undefined && event.subjectId !== filter.subject) return false
  if (filter.outcome !== undefined && event.outcome !== filter.outcome) return false
  if (filter.origins !== undefined && !filter.origins.includes(event.origin)) {
    // names are resolved per event, so renaming or re-listing a community applies at once
    const name = resolveName(event.origin)
    if (name === undefined || !filter.origins.includes(name)) return false
  }
  return true
}
