import { dateTimeToEpochMs, fullDateToEpochMs } from '../events/index.js'
import { InvalidRequestError } from '../errors.js'

/**
 * Key layout shared by every index. An index key is `<value part>\x00<cursor key>`, so each index
 * is ordered by (value, arrival) and one page of one value is one bounded range scan.
 * Values are escaped so they never contain the separator, and truncated so that a huge
 * (but valid) subject id or source cannot bloat every key; truncation is safe because the query
 * path re-checks every criterion against the record's facts.
 */

/** Separator between a value part and the next part of a key; sorts below every escaped char. */
export const KEY_SEPARATOR = '\x00'
/** `<value part>\x01` is the exclusive upper bound of every key that starts with `<value part>\x00`. */
export const KEY_UPPER = '\x01'

/** Width of the internal, sortable cursor key (base36; 36^11 > Number.MAX_SAFE_INTEGER). */
export const CURSOR_KEY_WIDTH = 11
/** Width of the sortable sequence key (decimal; MAX_SAFE_INTEGER has 16 digits). */
export const SEQUENCE_KEY_WIDTH = 16
/** Width of the sortable time key: ms since epoch shifted by the Date range, 17 digits. */
export const TIME_KEY_WIDTH = 17
/** The ECMAScript Date range is ±8.64e15 ms; shifting by it makes every instant non-negative. */
const TIME_OFFSET_MS = 8.64e15

/** Longest value part an index key carries; longer values are truncated (see above). */
export const MAX_INDEXED_VALUE_LENGTH = 512
/**
 * A source is indexed under at most this many of its prefixes ending in `/` (see
 * sourcePrefixes): `https://ci.example.org/` plus seven path segments, while bounding the index
 * entries one event can write.
 */
export const MAX_SOURCE_PREFIX_DEPTH = 8

export { decodeCursor, encodeCursor } from '../events/cursor.js'

/** Sortable internal form of an arrival counter. */
export function cursorKey (counter: number): string {
  return counter.toString(36).padStart(CURSOR_KEY_WIDTH, '0')
}

/** Arrival counter from the cursor key at the end of an index key. */
export function counterFromKey (key: string): number {
  return parseInt(key.slice(key.length - CURSOR_KEY_WIDTH), 36)
}

export function sequenceKey (sequence: number): string {
  return String(sequence).padStart(SEQUENCE_KEY_WIDTH, '0')
}

export function sequenceFromKey (key: string): number {
  return Number(key.slice(key.length - SEQUENCE_KEY_WIDTH))
}

export function timeKey (ms: number): string {
  return String(ms + TIME_OFFSET_MS).padStart(TIME_KEY_WIDTH, '0')
}

const HOUR_MS = 3_600_000
/**
 * The arrival summary tells apart the hours from 1970 to 2100; an event time before or after shares
 * the first or last hour, which keeps the summary small whatever times events claim and only makes
 * it more conservative.
 */
const LAST_SUMMARY_HOUR = Date.UTC(2100, 0, 1) / HOUR_MS
const HOUR_KEY_WIDTH = String(LAST_SUMMARY_HOUR).length

/** The arrival summary's hour of an event time. */
export function summaryHour (ms: number): number {
  return Math.min(Math.max(Math.floor(ms / HOUR_MS), 0), LAST_SUMMARY_HOUR)
}

export function hourKey (hour: number): string {
  return String(hour).padStart(HOUR_KEY_WIDTH, '0')
}


/**
 * Escapes \x00 and \x01 so a value part never contains the separator or the range upper bound.
 * Almost every value is plain text, hence the fast path.
 */
export function escapeKeyPart (value: string): string {
  if (!value.includes('\x00') && !value.includes('\x01')) return value
  return value.replaceAll('\x01', '\x01\x02').replaceAll('\x00', '\x01\x01')
}

/** The value part of an exact-match index key (escaped, truncated). */
export function valuePart (value: string): string {
  return escapeKeyPart(value.length > MAX_INDEXED_VALUE_LENGTH ? value.slice(0, MAX_INDEXED_VALUE_LENGTH) : value)
}

/** Key prefix of one value in an exact-match index: `<value part>\x00`. */
export function valuePrefix (value: string): string {
  return valuePart(value) + KEY_SEPARATOR
}

/** Exclusive upper bound of the keys under `prefix`, which ends in KEY_SEPARATOR. */
export function prefixEnd (prefix: string): string {
  return prefix.slice(0, -KEY_SEPARATOR.length) + KEY_UPPER
}

/** Key prefix of one (origin, class) in the composite origin/class index. */
export function originClassPrefix (origin: string, eventClass: string): string {
  return valuePart(origin) + KEY_SEPARATOR + valuePart(eventClass) + KEY_SEPARATOR
}

/** Key prefix of one (origin, class) in the sequence index. */
export function sequencePrefix (origin: string, eventClass: string): string {
  return escapeKeyPart(origin) + KEY_SEPARATOR + escapeKeyPart(eventClass) + KEY_SEPARATOR
}

/** Key of one (origin, class) in the sequence-state section. */
export function sequenceStateKey (origin: string, eventClass: string): string {
  return escapeKeyPart(origin) + KEY_SEPARATOR + escapeKeyPart(eventClass)
}

/** Key of one (source, id) in the uniqueness index; never truncated, it must be exact. */
export function sourceIdKey (source: string, id: string): string {
  return escapeKeyPart(source) + KEY_SEPARATOR + escapeKeyPart(id)
}

/**
 * Every prefix of `source` ending in `/`, shallowest first, within the depth and length bounds.
 * A slash that follows `:` or `/` is skipped: `https:/` and `https://` would match nearly every
 * record and only cost writes.
 */
export function sourcePrefixes (source: string): string[] {
  const prefixes: string[] = []
  let from = 0
  while (prefixes.length < MAX_SOURCE_PREFIX_DEPTH) {
    const slash = source.indexOf('/', from)
    if (slash < 0 || slash + 1 > MAX_INDEXED_VALUE_LENGTH) break
    const before = slash === 0 ? '' : source[slash - 1]
    if (before !== ':' && before !== '/') prefixes.push(source.slice(0, slash + 1))
    from = slash + 1
  }
  return prefixes
}

/**
 * The deepest indexed prefix a source-prefix query can scan: every source starting with
 * `query` is indexed under it. Undefined when the query has no `/` (then no index helps).
 */
export function indexedSourcePrefix (query: string): string | undefined {
  const prefixes = sourcePrefixes(query)
  return prefixes[prefixes.length - 1]
}

/**
 * Parses an untrusted instant (a query bound, a subscription's start time) to epoch ms at
 * millisecond precision: an RFC 3339 date-time as events/rfc3339.ts defines it, or a bare RFC 3339
 * full-date meaning its midnight UTC. An offset is mandatory, so the node's local time zone never
 * changes the meaning, and `2025-02-30` is refused.
 */
export function parseInstant (value: string, field: string): number {
  const ms = dateTimeToEpochMs(value) ?? fullDateToEpochMs(value)
  if (ms === undefined) {
    throw new InvalidRequestError(`${field} must be an RFC 3339 date-time with an offset, such as 2025-01-31T12:00:00Z, or a date`, { field })
  }
  return ms
}

/** Event time of a stored record as epoch ms; undefined when the timestamp is not an RFC 3339 date-time. */
export function eventTimeMs (timestamp: unknown): number | undefined {
  return dateTimeToEpochMs(timestamp)
}
