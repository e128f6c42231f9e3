import { InvalidRequestError } from '../errors.js'
import { parseInstant } from './keys.js'
import { factsOf } from './record.js'
import type { RecordFacts } from './record.js'
import type { EventQuery, StoredEvent } from './types.js'

/**
 * The query language, pure: what an EventQuery means (validated into a QueryFilter) and whether
 * one record's facts match it. The store's planner scans with it; the SSE stream's live phase
 * (through eventQueryPredicate) checks records one at a time with it.
 */

/** Largest page `query` and `readAfter` return, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 1000
/** Page size when the query names none. */
export const DEFAULT_PAGE_SIZE = 100
/** Longest string filter value a query accepts. */
export const MAX_FILTER_LENGTH = 2048

/** One query after validation. */
export interface QueryFilter {
  typeExact?: string
  eventClass?: string
  /** `artifact.` for the pattern `artifact.*`: classes of one subject (no index; post-filtered) */
  classPrefix?: string
  source?: string
  subject?: string
  chainId?: string
  origin?: string
  sinceMs?: number
  untilMs?: number
  trusted?: boolean
}

/** Validates an untrusted query's filters; throws InvalidRequestError on the first bad one. */
export function parseQuery (q: EventQuery): QueryFilter {
  if (typeof q !== 'object' || q === null) throw new InvalidRequestError('query must be an object')
  const f: QueryFilter = {}
  if (q.type !== undefined) {
    checkFilterString(q.type, 'type')
    // Classes never start with `dev.`: `pipelinerun.finished`, `x.mytool-resource.created`.
    // Class patterns as subscriptions write them: `*` and `<subject>.*` (api/ checks the subject).
    if (q.type.startsWith('dev.')) f.typeExact = q.type
    else if (q.type.endsWith('.*')) f.classPrefix = q.type.slice(0, -1)
    else if (q.type !== '*') f.eventClass = q.type
  }
  if (q.source !== undefined) { checkFilterString(q.source, 'source'); f.source = q.source }
  if (q.subject !== undefined) { checkFilterString(q.subject, 'subject'); f.subject = q.subject }
  if (q.chainId !== undefined) { checkFilterString(q.chainId, 'chainId'); f.chainId = q.chainId }
  if (q.origin !== undefined) { checkFilterString(q.origin, 'origin'); f.origin = q.origin }
  if (q.since !== undefined) f.sinceMs = parseInstant(q.since, 'since')
  if (q.until !== undefined) f.untilMs = parseInstant(q.until, 'until')
  if (q.trusted !== undefined) {
    if (typeof q.trusted !== 'boolean') throw new InvalidRequestError('trusted must be a boolean')
    f.trusted = q.trusted
  }
  return f
}

export function matches (facts: RecordFacts, f: QueryFilter): boolean {
  if (f.typeExact !== undefined && facts.type !== f.typeExact) return false
  if (f.eventClass !== undefined && facts.eventClass !== f.eventClass) return false
  if (f.classPrefix !== undefined && !facts.eventClass.startsWith(f.classPrefix)) return false
  if (f.source !== undefined && !facts.source.startsWith(f.source)) return false
  if (f.subject !== undefined && facts.subject !== f.subject) return false
  if (f.chainId !== undefined && facts.chainId !== f.chainId) return false
  if (f.origin !== undefined && facts.origin !== f.origin) return false
  if (f.trusted !== undefined && facts.trusted !== f.trusted) return false
  if (f.sinceMs !== undefined && (facts.time === undefined || facts.time < f.sinceMs)) return false
  if (f.untilMs !== undefined && (facts.time === undefined || facts.time > f.untilMs)) return false
  return true
}

/**
 * The query's filters as a predicate over one record, for consumers that see records one at a
 * time (the SSE stream's live phase). Same rules as `query`; throws InvalidRequestError on a bad
 * filter, like `query`. Paging fields (limit, cursor) are ignored.
 */
export function eventQueryPredicate (q: EventQuery): (stored: StoredEvent) => boolean {
  const filter = parseQuery(q)
  return stored => matches(factsOf(stored.event, stored.trusted, Date.parse(stored.receivedAt)), filter)
}

export function checkFilterString (value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FILTER_LENGTH) {
    throw new InvalidRequestError(`${field} must be a string of 1 to ${MAX_FILTER_LENGTH} characters`, { field })
  }
}

/** A page size: DEFAULT_PAGE_SIZE when absent, at most MAX_PAGE_SIZE. */
export function clampLimit (limit: unknown, field: string): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE
  return clampInt(limit, MAX_PAGE_SIZE, field)
}

/** A positive integer from an untrusted caller, lowered to `max`. */
export function clampInt (value: unknown, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidRequestError(`${field} must be a positive integer`, { field })
  }
  return Math.min(value, max)
}
