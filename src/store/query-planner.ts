import { CorruptRecordError, asStoreError, levelCall } from './errors.js'
import {
  KEY_SEPARATOR, KEY_UPPER, counterFromKey, cursorKey, decodeCursor, encodeCursor, indexedSourcePrefix, originClassPrefix,
  parseInstant, prefixEnd, timeKey, valuePart, valuePrefix
} from './keys.js'
import { SCAN_CHUNK, noop } from './layout.js'
import { windowArrivals } from './arrival-summary.js'
import { clampLimit, matches, parseQuery } from './query-language.js'
import { getMany } from './point-reads.js'
import { decodeFacts } from './record.js'
import type { HourSpan } from './arrival-summary.js'
import type { OpenState, Opened, Sub } from './layout.js'
import type { QueryFilter } from './query-language.js'
import type { RecordFacts } from './record.js'
import type { EventPage, EventQuery, StoredEvent } from './types.js'

/**
 * The query planner and the arrival-order reads. A query is planned by pure functions (which
 * index, which range of the arrival order, which key range) and run as one bounded range scan;
 * the read paths delivery resumes from (readAfter, cursorAtTime) walk the arrival order itself.
 */

/**
 * How many index entries one `query` call examines when criteria must be checked beyond the
 * chosen index. Past it the call returns what it found with `next` set to the last examined
 * position, so a sparse query costs the client more round trips instead of costing the node an
 * unbounded scan. Measured: 2,000 candidates cost ~5 ms of CPU (index keys, their arrival facts,
 * the filter), which keeps a sparse call within the 20 ms p99 target.
 */
export const DEFAULT_MAX_SCAN = 2000
/**
 * The most event-time index entries a since/until query collects to answer exactly: a window of
 * at most this many records is sorted by arrival and paged from memory (see windowPlan).
 */
export const DEFAULT_TIME_RANGE_COLLECT = 2000

export interface QueryLimits {
  /** entries a post-filtered call examines at most (DEFAULT_MAX_SCAN) */
  maxScan: number
  /** largest event-time range collected and answered exactly (DEFAULT_TIME_RANGE_COLLECT) */
  timeRangeCollect: number
}

type Candidate = [counter: number, facts: RecordFacts]

/** The OpenState sublevels a query can scan: keys `<value part>\x00…<cursor key>` (`untrusted`: bare cursor keys). */
export type QueryIndex = 'bySubject' | 'byChain' | 'bySourcePrefix' | 'byOriginClass' | 'byType' | 'byClass' | 'untrusted' | 'byOrigin'

export interface IndexChoice {
  /** the index scanned; undefined: the arrival order itself */
  index: QueryIndex | undefined
  /** the scanned keys' common prefix, '' for bare cursor keys */
  prefix: string
  /** a per-value index that narrows a lot (subject, chain); time collection is not worth trying */
  selective: boolean
}

/**
 * Picks the index a query scans. Without statistics the order is a fixed guess at selectivity:
 * a subject id or chain names one flow, a source prefix one project or tool, an (origin, class)
 * pair one community's stream of one kind, an exact type is narrower than its class, an origin
 * is one whole community.
 */
export function chooseIndex (f: QueryFilter): IndexChoice {
  if (f.subject !== undefined) return { index: 'bySubject', prefix: valuePrefix(f.subject), selective: true }
  if (f.chainId !== undefined) return { index: 'byChain', prefix: valuePrefix(f.chainId), selective: true }
  if (f.source !== undefined) {
    const indexed = indexedSourcePrefix(f.source)
    if (indexed !== undefined) return { index: 'bySourcePrefix', prefix: valuePart(indexed) + KEY_SEPARATOR, selective: false }
  }
  if (f.origin !== undefined && f.eventClass !== undefined) {
    return { index: 'byOriginClass', prefix: originClassPrefix(f.origin, f.eventClass), selective: false }
  }
  if (f.typeExact !== undefined) return { index: 'byType', prefix: valuePrefix(f.typeExact), selective: false }
  if (f.eventClass !== undefined) return { index: 'byClass', prefix: valuePrefix(f.eventClass), selective: false }
  if (f.trusted === false) return { index: 'untrusted', prefix: '', selective: false }
  if (f.origin !== undefined) return { index: 'byOrigin', prefix: valuePrefix(f.origin), selective: false }
  return { index: undefined, prefix: '', selective: false }
}

/** Arrival counters a query scans: strictly after `after`, up to and including `upTo` (the end when absent). */
export interface ArrivalRange { after: number, upTo?: number }

/**
 * The part of the arrival order where records matching the filter's since/until window can be,
 * strictly after the cursor's counter `after`: from the arrival summary (windowArrivals).
 * Undefined when none can be there (an empty window, no record with an event time inside it, or
 * none after the cursor).
 */
export function arrivalRange (summary: ReadonlyMap<number, HourSpan>, f: QueryFilter, after: number): ArrivalRange | undefined {
  if (f.sinceMs !== undefined && f.untilMs !== undefined && f.sinceMs > f.untilMs) return undefined
  const window = windowArrivals(summary, f)
  if (window === undefined || (window.last !== undefined && window.last <= after)) return undefined
  return { after: window.first === undefined ? after : Math.max(after, window.first - 1), upTo: window.last }
}

/**
 * Key range of a scan of the keys `prefix + cursorKey(counter)` with after < counter <= upTo.
 * An empty prefix means bare cursor keys (arrival, untrusted): no upper bound but `upTo`.
 */
export function scanKeyRange (prefix: string, after: number, upTo: number | undefined): { gt: string, lt?: string } {
  const gt = prefix + cursorKey(after)
  if (upTo !== undefined) return { gt, lt: prefix + cursorKey(upTo + 1) }
  return prefix === '' ? { gt } : { gt, lt: prefixEnd(prefix) }
}

/**
 * How a since/until query without a selective index (subject, chain) reads:
 * - `collect-first`: the arrival summary puts the window's records within `2 × collect` arrivals,
 *   so the window is small. Its event-time range (keys only, at most `collect + 1`) is cheaper to
 *   read than its arrivals' facts; a range that still holds more than `collect` is scanned. The
 *   summary counts whole hours of event time while a window may cover parts of them, hence twice.
 * - `scan-first`: the window spans more arrivals (a day of a busy store is tens of thousands), so
 *   reading its time range would mostly find it too large. The arrival-ordered scan between the
 *   summary's bounds runs first: for records that arrived together, as live and synced ones do, it
 *   fills the page at once. Only when it stops at its bound with the page short (the window's
 *   records scattered over the arrival order) is the time range collected after all.
 * - `scan`: no window, or a selective index that is cheaper than the time range.
 */
export function windowPlan (f: QueryFilter, index: IndexChoice, range: ArrivalRange, collect: number): 'scan' | 'collect-first' | 'scan-first' {
  if ((f.sinceMs === undefined && f.untilMs === undefined) || index.selective) return 'scan'
  return range.upTo !== undefined && range.upTo - range.after <= 2 * collect ? 'collect-first' : 'scan-first'
}

/** A post-filtered scan that stopped at its bound before filling the page. */
export function fellShort (page: EventPage, limit: number): boolean {
  return page.next !== undefined && page.events.length < limit
}

/** Key range of the event-time index holding the filter's since/until window, both ends inclusive. */
export function timeKeyRange (f: QueryFilter): { gte?: string, lt?: string } {
  const range: { gte?: string, lt?: string } = {}
  if (f.sinceMs !== undefined) range.gte = timeKey(f.sinceMs)
  if (f.untilMs !== undefined) range.lt = timeKey(f.untilMs) + KEY_UPPER
  return range
}

/**
 * One page in arrival order, strictly after `cursor`. The most selective index the query allows
 * is scanned as one range ordered by (value, arrival); criteria beyond it are checked against
 * each candidate's facts. Such a post-filtered call examines at most `maxScan` entries: when it
 * stops there it returns fewer (possibly zero) events and a `next` cursor past everything it
 * examined, so the client keeps paging while `next` is set.
 */
export async function query (opened: Opened, limits: QueryLimits, q: EventQuery): Promise<EventPage> {
  const filter = parseQuery(q)
  const limit = clampLimit(q.limit, 'limit')
  const after = q.cursor === undefined ? 0 : decodeCursor(q.cursor)
  const st = opened()
  const range = arrivalRange(st.arrivalByHour, filter, after)
  if (range === undefined) return { events: [] }
  const index = chooseIndex(filter)
  const plan = windowPlan(filter, index, range, limits.timeRangeCollect)
  if (plan === 'collect-first') {
    const exact = await queryTimeRange(st, limits.timeRangeCollect, filter, range.after, limit)
    if (exact !== undefined) return exact
  }
  const sub = index.index === undefined ? undefined : st[index.index]
  const page = await scan(st, sub, index.prefix, filter, range.after, limit, limits.maxScan, range.upTo)
  if (plan !== 'scan-first' || !fellShort(page, limit)) return page
  return await queryTimeRange(st, limits.timeRangeCollect, filter, range.after, limit) ?? page
}

/** Up to `limit` records in arrival order strictly after `cursor` (from the beginning when absent). */
export async function readAfter (opened: Opened, cursor: string | undefined, limit: number): Promise<StoredEvent[]> {
  const after = cursor === undefined ? 0 : decodeCursor(cursor)
  const n = clampLimit(limit, 'limit')
  const st = opened()
  const page = await scan(st, undefined, '', {}, after, n, Number.POSITIVE_INFINITY)
  return page.events
}

/** Cursor of the newest record; undefined while the store is empty. */
export function lastCursor (opened: Opened): string | undefined {
  const st = opened()
  return st.counter === 0 ? undefined : encodeCursor(st.counter)
}

/**
 * The position from which `readAfter` yields exactly the records received at or after `iso`:
 * the cursor just before the first such record (`0` when that is the first record), or the
 * last cursor when every record was received earlier (undefined for an empty store).
 */
export async function cursorAtTime (opened: Opened, iso: string): Promise<string | undefined> {
  const ms = parseInstant(iso, 'time')
  const st = opened()
  // receivedAt never decreases along the arrival order, so binary search it: ~20 point reads
  // for a million records. `lo` is the first counter that may qualify, `hi` one past the last.
  let lo = 1
  let hi = st.counter + 1
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    const found = await firstArrivalFrom(st, mid)
    if (found === undefined || found[0] >= hi) {
      hi = mid
    } else if (found[1].receivedAt >= ms) {
      hi = mid
    } else {
      lo = found[0] + 1
    }
  }
  if (lo > st.counter) return st.counter === 0 ? undefined : encodeCursor(st.counter)
  return encodeCursor(lo - 1)
}

/** The first arrival entry at or after `counter` (robust to holes in the counter sequence). */
async function firstArrivalFrom (st: OpenState, counter: number): Promise<Candidate | undefined> {
  const entries = await levelCall('read', async () => st.arrival.iterator({ gte: cursorKey(counter), limit: 1 }).all())
  const entry = entries[0]
  return entry === undefined ? undefined : [counterFromKey(entry[0]), decodeFacts(entry[0], entry[1])]
}

/**
 * The bounded range scan behind every query: walks `sub` (an index whose keys are
 * `prefix + cursorKey`, or the arrival order itself when `sub` is undefined) from just after
 * `after` to the arrival `upTo` (the end when undefined), checks each candidate against
 * `filter`, and stops at `limit` matches or `maxScan` examined entries.
 */
async function scan (st: OpenState, sub: Sub<string> | undefined, prefix: string, filter: QueryFilter,
  after: number, limit: number, maxScan: number, upTo?: number): Promise<EventPage> {
  const source = sub ?? st.arrival
  const it = source.iterator({ ...scanKeyRange(prefix, after, upTo), values: sub === undefined })
  const matched: Candidate[] = []
  let scanned = 0
  let lastScanned = after
  let exhausted = false
  let more = false
  // First read just enough for an unfiltered page, then grow: a post-filtered scan needs big reads.
  let chunk = Math.min(SCAN_CHUNK, limit + 1)
  try {
    outer: while (true) {
      const entries = await it.nextv(Math.min(chunk, maxScan - scanned))
      chunk = Math.min(SCAN_CHUNK, chunk * 4)
      if (entries.length === 0) {
        exhausted = true
        break
      }
      const candidates = sub === undefined
        ? entries.map(([key, value]): Candidate => [counterFromKey(key), decodeFacts(key, value)])
        : await factsFor(st, entries.map(([key]) => counterFromKey(key)))
      for (let i = 0; i < candidates.length; i++) {
        const candidate = candidates[i] as Candidate
        scanned++
        lastScanned = candidate[0]
        if (!matches(candidate[1], filter)) continue
        matched.push(candidate)
        if (matched.length === limit) {
          more = i < candidates.length - 1 || (await it.nextv(1)).length > 0
          break outer
        }
      }
      if (scanned >= maxScan) break
    }
  } catch (err) {
    throw asStoreError('query', err)
  } finally {
    await it.close().catch(noop)
  }
  const events = await recordsFor(st, matched)
  const last = matched[matched.length - 1]
  if (matched.length === limit) {
    return more && last !== undefined ? { events, next: encodeCursor(last[0]) } : { events }
  }
  return exhausted ? { events } : { events, next: encodeCursor(lastScanned) }
}

/**
 * since/until without a selective index (windowPlan): if the event-time range holds at most
 * `collect` entries, collect it, sort by arrival and answer exactly; undefined when it holds more.
 */
async function queryTimeRange (st: OpenState, collect: number, filter: QueryFilter, after: number, limit: number): Promise<EventPage | undefined> {
  const keys = await levelCall('query', async () => st.byTime.keys({ ...timeKeyRange(filter), limit: collect + 1 }).all())
  if (keys.length > collect) return undefined
  const counters = keys.map(counterFromKey).filter((c) => c > after).sort((a, b) => a - b)
  const matched: Candidate[] = []
  let more = false
  for (let i = 0; i < counters.length && !more; i += SCAN_CHUNK) {
    const candidates = await factsFor(st, counters.slice(i, i + SCAN_CHUNK))
    for (const candidate of candidates) {
      if (!matches(candidate[1], filter)) continue
      if (matched.length === limit) {
        more = true
        break
      }
      matched.push(candidate)
    }
  }
  const events = await recordsFor(st, matched)
  const last = matched[matched.length - 1]
  return more && last !== undefined ? { events, next: encodeCursor(last[0]) } : { events }
}

async function factsFor (st: OpenState, counters: number[]): Promise<Candidate[]> {
  const keys = counters.map(cursorKey)
  const values = await levelCall('query', async () => st.arrival.getMany(keys))
  return values.map((value, i): Candidate => {
    const key = keys[i] as string
    if (value === undefined) throw new CorruptRecordError(key, 'index entry without arrival entry')
    return [counters[i] as number, decodeFacts(key, value)]
  })
}

async function recordsFor (st: OpenState, matched: Candidate[]): Promise<StoredEvent[]> {
  const stored = await getMany(st, matched.map(([, facts]) => facts.digest))
  return stored.map((s, i) => {
    if (s === undefined) throw new CorruptRecordError((matched[i] as Candidate)[1].digest, 'indexed record missing')
    return s
  })
}
