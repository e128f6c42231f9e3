import { describe, it, expect } from 'vitest'
import { decodeHourSpan, encodeHourSpan, noteArrival, windowArrivals } from '../../src/store/arrival-summary.js'
import { cursorKey, originClassPrefix, summaryHour, timeKey, valuePrefix } from '../../src/store/keys.js'
import { arrivalRange, chooseIndex, fellShort, scanKeyRange, timeKeyRange, windowPlan } from '../../src/store/query-planner.js'
import type { ArrivalSummary, HourSpan } from '../../src/store/arrival-summary.js'
import type { QueryFilter } from '../../src/store/query-language.js'
import type { EventPage, StoredEvent } from '../../src/store/types.js'

/**
 * The store's pure planners, without LevelDB: which index a query scans, where in the arrival
 * order its since/until window can be, and the key ranges a scan walks.
 */

const ORIGIN = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const ms = (iso: string): number => Date.parse(iso)
/** hour of event time of 2024-05-01T10:00Z, the hour most cases below are built around */
const H = summaryHour(ms('2024-05-01T10:00:00Z'))
const LAST_HOUR = summaryHour(8.64e15)

function inRange (range: { gt?: string, gte?: string, lt?: string }, key: string): boolean {
  if (range.gt !== undefined && !(key > range.gt)) return false
  if (range.gte !== undefined && !(key >= range.gte)) return false
  if (range.lt !== undefined && !(key < range.lt)) return false
  return true
}

describe('chooseIndex', () => {
  it('scans the subject or chain index first, and calls them selective', () => {
    expect(chooseIndex({ subject: 'svc-a' })).toEqual({ index: 'bySubject', prefix: valuePrefix('svc-a'), selective: true })
    expect(chooseIndex({ chainId: 'c-1' })).toEqual({ index: 'byChain', prefix: valuePrefix('c-1'), selective: true })
    // every other criterion narrows less than either
    const all: QueryFilter = { subject: 'svc-a', chainId: 'c-1', source: 'https://ci.example.org/a/', origin: ORIGIN, eventClass: 'build.finished', trusted: false }
    expect(chooseIndex(all).index).toBe('bySubject')
    expect(chooseIndex({ ...all, subject: undefined }).index).toBe('byChain')
  })

  it('scans a source prefix under its deepest indexed prefix, and skips the index when the source has no slash', () => {
    expect(chooseIndex({ source: 'https://ci.example.org/team/job' })).toEqual({
      index: 'bySourcePrefix', prefix: valuePrefix('https://ci.example.org/team/'), selective: false
    })
    expect(chooseIndex({ source: 'https://ci.example.org/', origin: ORIGIN, eventClass: 'build.finished' }).index).toBe('bySourcePrefix')
    // `ci` names no indexed prefix: the next criterion decides, or the arrival order itself
    expect(chooseIndex({ source: 'ci', origin: ORIGIN }).index).toBe('byOrigin')
    expect(chooseIndex({ source: 'ci' })).toEqual({ index: undefined, prefix: '', selective: false })
  })

  it('scans the (origin, class) index when both are named, before type, class or origin alone', () => {
    expect(chooseIndex({ origin: ORIGIN, eventClass: 'build.finished' })).toEqual({
      index: 'byOriginClass', prefix: originClassPrefix(ORIGIN, 'build.finished'), selective: false
    })
    expect(chooseIndex({ origin: ORIGIN, eventClass: 'build.finished', trusted: false }).index).toBe('byOriginClass')
  })

  it('scans the exact type, then the class, then untrusted records, then the origin', () => {
    const type = 'dev.cdevents.build.finished.0.2.0'
    expect(chooseIndex({ typeExact: type })).toEqual({ index: 'byType', prefix: valuePrefix(type), selective: false })
    expect(chooseIndex({ typeExact: type, origin: ORIGIN, trusted: false }).index).toBe('byType')
    expect(chooseIndex({ eventClass: 'build.finished' })).toEqual({ index: 'byClass', prefix: valuePrefix('build.finished'), selective: false })
    expect(chooseIndex({ eventClass: 'build.finished', trusted: false }).index).toBe('byClass')
    // the untrusted index holds bare cursor keys
    expect(chooseIndex({ trusted: false, origin: ORIGIN })).toEqual({ index: 'untrusted', prefix: '', selective: false })
    expect(chooseIndex({ origin: ORIGIN })).toEqual({ index: 'byOrigin', prefix: valuePrefix(ORIGIN), selective: false })
  })

  it('walks the arrival order when no criterion has an index of its own', () => {
    const arrival = { index: undefined, prefix: '', selective: false }
    expect(chooseIndex({})).toEqual(arrival)
    // nearly every record is trusted: no index for them
    expect(chooseIndex({ trusted: true })).toEqual(arrival)
    // a window alone is served by time collection or the arrival summary, not by an index
    expect(chooseIndex({ sinceMs: ms('2024-05-01T00:00:00Z'), untilMs: ms('2024-05-02T00:00:00Z') })).toEqual(arrival)
  })

  it('escapes and truncates the value in the prefix as the write path does', () => {
    expect(chooseIndex({ subject: 'a\u0000b' }).prefix).toBe(valuePrefix('a\u0000b'))
    expect(chooseIndex({ subject: 'a\u0000b' }).prefix.indexOf('\u0000')).toBe(chooseIndex({ subject: 'a\u0000b' }).prefix.length - 1)
    const long = 's'.repeat(2000)
    expect(chooseIndex({ subject: long }).prefix).toBe(valuePrefix(long))
    expect(chooseIndex({ subject: long }).prefix.length).toBeLessThan(long.length)
  })
})

describe('windowArrivals', () => {
  const summary: ArrivalSummary = new Map<number, HourSpan>([
    [H - 2, { first: 1, last: 10 }],
    [H, { first: 5, last: 20 }],
    [H + 1, { first: 21, last: 30 }],
    // history that arrived late: an hour after H whose first record came before H's
    [H + 5, { first: 3, last: 40 }]
  ])

  it('gives no bounds without a window, whatever the summary holds', () => {
    expect(windowArrivals(summary, {})).toEqual({})
    expect(windowArrivals(new Map(), {})).toEqual({})
  })

  it('bounds a window by the hours it touches, a partly covered hour counting whole', () => {
    expect(windowArrivals(summary, { sinceMs: ms('2024-05-01T10:00:00Z'), untilMs: ms('2024-05-01T10:59:59.999Z') })).toEqual({ first: 5, last: 20 })
    expect(windowArrivals(summary, { sinceMs: ms('2024-05-01T10:30:00Z'), untilMs: ms('2024-05-01T10:30:00Z') })).toEqual({ first: 5, last: 20 })
    // the hour before H ends at 09:59:59.999 and holds nothing
    expect(windowArrivals(summary, { sinceMs: ms('2024-05-01T09:00:00Z'), untilMs: ms('2024-05-01T09:59:59.999Z') })).toBeUndefined()
  })

  it('takes the smallest first and the largest last over the hours, not those of the edge hours', () => {
    expect(windowArrivals(summary, { sinceMs: ms('2024-05-01T11:00:00Z') })).toEqual({ first: 3, last: 40 })
    expect(windowArrivals(summary, { untilMs: ms('2024-05-01T10:00:00Z') })).toEqual({ first: 1, last: 20 })
    expect(windowArrivals(summary, { sinceMs: ms('2024-05-01T08:00:00Z'), untilMs: ms('2024-05-01T11:00:00Z') })).toEqual({ first: 1, last: 30 })
  })

  it('says undefined when no record held has an event time in the window', () => {
    expect(windowArrivals(summary, { sinceMs: ms('2024-05-01T12:00:00Z'), untilMs: ms('2024-05-01T14:59:59Z') })).toBeUndefined()
    expect(windowArrivals(summary, { sinceMs: ms('2030-01-01T00:00:00Z') })).toBeUndefined()
    expect(windowArrivals(new Map(), { sinceMs: 0 })).toBeUndefined()
  })

  it('counts times before 1970 and after 2100 in the edge hours', () => {
    const edges: ArrivalSummary = new Map([[0, { first: 2, last: 2 }], [LAST_HOUR, { first: 7, last: 9 }]])
    expect(windowArrivals(edges, { untilMs: ms('1960-01-01T00:00:00Z') })).toEqual({ first: 2, last: 2 })
    expect(windowArrivals(edges, { sinceMs: ms('2200-01-01T00:00:00Z') })).toEqual({ first: 7, last: 9 })
    expect(windowArrivals(edges, { sinceMs: ms('1960-01-01T00:00:00Z'), untilMs: ms('2200-01-01T00:00:00Z') })).toEqual({ first: 2, last: 9 })
    expect(windowArrivals(edges, { sinceMs: ms('1971-01-01T00:00:00Z'), untilMs: ms('2099-12-31T23:00:00Z') })).toBeUndefined()
  })
})

describe('arrivalRange', () => {
  const summary: ArrivalSummary = new Map([[H, { first: 5, last: 20 }]])
  const window = { sinceMs: ms('2024-05-01T10:00:00Z'), untilMs: ms('2024-05-01T10:59:59Z') }

  it('scans everything after the cursor when there is no window', () => {
    expect(arrivalRange(summary, {}, 0)).toEqual({ after: 0, upTo: undefined })
    expect(arrivalRange(new Map(), { origin: ORIGIN }, 7)).toEqual({ after: 7, upTo: undefined })
  })

  it('starts just before the window\'s first arrival, or at the cursor when that is later', () => {
    expect(arrivalRange(summary, window, 0)).toEqual({ after: 4, upTo: 20 })
    expect(arrivalRange(summary, window, 4)).toEqual({ after: 4, upTo: 20 })
    expect(arrivalRange(summary, window, 10)).toEqual({ after: 10, upTo: 20 })
    expect(arrivalRange(summary, window, 19)).toEqual({ after: 19, upTo: 20 })
    expect(arrivalRange(new Map([[H, { first: 1, last: 1 }]]), window, 0)).toEqual({ after: 0, upTo: 1 })
  })

  it('is empty once the cursor is at or past the window\'s last arrival', () => {
    expect(arrivalRange(summary, window, 20)).toBeUndefined()
    expect(arrivalRange(summary, window, 25)).toBeUndefined()
  })

  it('is empty for a window with no records, or one that ends before it starts', () => {
    expect(arrivalRange(summary, { sinceMs: ms('2024-05-02T00:00:00Z') }, 0)).toBeUndefined()
    expect(arrivalRange(summary, { sinceMs: window.untilMs, untilMs: window.sinceMs }, 0)).toBeUndefined()
    // a single instant is a window, not an inverted one
    expect(arrivalRange(summary, { sinceMs: window.sinceMs, untilMs: window.sinceMs }, 0)).toEqual({ after: 4, upTo: 20 })
  })
})

describe('windowPlan', () => {
  const window: QueryFilter = { sinceMs: ms('2024-05-01T10:00:00Z'), untilMs: ms('2024-05-01T10:59:59Z') }
  const byClass = chooseIndex({ eventClass: 'build.finished' })

  it('collects the event-time range first when the window lies within twice the collect bound of arrivals', () => {
    expect(windowPlan(window, byClass, { after: 100, upTo: 300 }, 100)).toBe('collect-first')
    expect(windowPlan({ untilMs: window.untilMs }, chooseIndex({}), { after: 0, upTo: 200 }, 100)).toBe('collect-first')
  })

  it('scans first when the window spans more arrivals, or runs to the end of the store', () => {
    expect(windowPlan(window, byClass, { after: 100, upTo: 301 }, 100)).toBe('scan-first')
    expect(windowPlan({ sinceMs: window.sinceMs }, byClass, { after: 100 }, 100)).toBe('scan-first')
  })

  it('only scans without a window, or behind a selective index', () => {
    expect(windowPlan({ eventClass: 'build.finished' }, byClass, { after: 0, upTo: 10 }, 100)).toBe('scan')
    expect(windowPlan({ ...window, subject: 'svc-a' }, chooseIndex({ subject: 'svc-a' }), { after: 0, upTo: 10 }, 100)).toBe('scan')
    expect(windowPlan({ ...window, chainId: 'c-1' }, chooseIndex({ chainId: 'c-1' }), { after: 0 }, 100)).toBe('scan')
  })
})

describe('fellShort', () => {
  // only the page's shape matters: how many events, and whether it says where to go on
  const page = (events: number, next?: string): EventPage => ({ events: new Array<StoredEvent>(events), ...(next === undefined ? {} : { next }) })

  it('is a page that says where to go on without being full', () => {
    expect(fellShort(page(3, 'c'), 10)).toBe(true)
    expect(fellShort(page(0, 'c'), 10)).toBe(true)
  })

  it('is not a full page, nor the last one', () => {
    expect(fellShort(page(10, 'c'), 10)).toBe(false)
    expect(fellShort(page(3), 10)).toBe(false)
    expect(fellShort(page(0), 10)).toBe(false)
  })
})

describe('scanKeyRange', () => {
  const prefix = valuePrefix('p')
  const key = (n: number, p = prefix): string => p + cursorKey(n)

  it('holds exactly the counters after `after` up to `upTo` of one value', () => {
    const range = scanKeyRange(prefix, 3, 9)
    expect(range).toEqual({ gt: key(3), lt: key(10) })
    for (let n = 4; n <= 9; n++) expect(inRange(range, key(n)), String(n)).toBe(true)
    for (const n of [0, 3, 10, 1000]) expect(inRange(range, key(n)), String(n)).toBe(false)
  })

  it('runs to the end of the value without `upTo`, and never into the next value', () => {
    const range = scanKeyRange(prefix, 3, undefined)
    expect(inRange(range, key(4))).toBe(true)
    expect(inRange(range, key(Number.MAX_SAFE_INTEGER))).toBe(true)
    expect(inRange(range, key(3))).toBe(false)
    for (const other of ['pq', 'p\u0000x', 'q', 'o']) {
      expect(inRange(range, key(5, valuePrefix(other))), JSON.stringify(other)).toBe(false)
    }
  })

  it('bounds bare cursor keys by `upTo` only', () => {
    expect(scanKeyRange('', 3, 9)).toEqual({ gt: cursorKey(3), lt: cursorKey(10) })
    const open = scanKeyRange('', 3, undefined)
    // no `lt` member at all: level would encode `lt: undefined` as the key 'undefined' and stop there
    expect(open).toEqual({ gt: cursorKey(3) })
    expect('lt' in open).toBe(false)
    expect(inRange(open, cursorKey(Number.MAX_SAFE_INTEGER))).toBe(true)
    expect(scanKeyRange('', 0, undefined)).toEqual({ gt: cursorKey(0) })
  })
})

describe('timeKeyRange', () => {
  const since = ms('2024-05-01T10:00:00Z')
  const until = ms('2024-05-01T11:00:00Z')
  const key = (time: number, counter = 1): string => timeKey(time) + '\u0000' + cursorKey(counter)

  it('holds both ends of the window, inclusive', () => {
    const range = timeKeyRange({ sinceMs: since, untilMs: until })
    expect(inRange(range, key(since))).toBe(true)
    expect(inRange(range, key(until, Number.MAX_SAFE_INTEGER))).toBe(true)
    expect(inRange(range, key(since - 1, Number.MAX_SAFE_INTEGER))).toBe(false)
    expect(inRange(range, key(until + 1))).toBe(false)
  })

  it('leaves an open end unbounded', () => {
    expect(timeKeyRange({})).toEqual({})
    expect(timeKeyRange({ sinceMs: since })).toEqual({ gte: timeKey(since) })
    const upTo = timeKeyRange({ untilMs: until })
    expect('gte' in upTo).toBe(false)
    expect(inRange(upTo, key(-8.64e15))).toBe(true)
    expect(inRange(upTo, key(until + 1))).toBe(false)
  })
})

describe('arrival summary updates', () => {
  it('starts an hour at its first record and moves its last with each later one', () => {
    const touched: ArrivalSummary = new Map()
    noteArrival(touched, new Map(), ms('2024-05-01T10:05:00Z'), 7)
    noteArrival(touched, new Map(), ms('2024-05-01T10:55:00Z'), 9)
    noteArrival(touched, new Map(), ms('2024-05-01T11:00:00Z'), 10)
    expect([...touched]).toEqual([[H, { first: 7, last: 9 }], [H + 1, { first: 10, last: 10 }]])
  })

  it('keeps the first arrival the summary already holds, without changing the summary itself', () => {
    const summary: ArrivalSummary = new Map([[H, { first: 2, last: 5 }]])
    const touched: ArrivalSummary = new Map()
    noteArrival(touched, summary, ms('2024-05-01T10:30:00Z'), 8)
    expect(touched.get(H)).toEqual({ first: 2, last: 8 })
    // the summary changes only once the write that touched it is committed
    expect(summary.get(H)).toEqual({ first: 2, last: 5 })
  })

  it('round-trips a persisted span and refuses malformed ones', () => {
    expect(decodeHourSpan(encodeHourSpan({ first: 3, last: 3 }))).toEqual({ first: 3, last: 3 })
    expect(decodeHourSpan(encodeHourSpan({ first: 1, last: Number.MAX_SAFE_INTEGER }))).toEqual({ first: 1, last: Number.MAX_SAFE_INTEGER })
    for (const bad of ['', '5', 'a:b', '0:3', '-1:2', '4:3', '1.5:2', '1:9007199254740993']) {
      expect(decodeHourSpan(bad), bad).toBeUndefined()
    }
  })
})
