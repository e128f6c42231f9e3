import { describe, it, expect, onTestFinished } from 'vitest'
import { Level } from 'level'
import { MAX_PAGE_SIZE, createEventStore, eventQueryPredicate } from '../../src/store/index.js'
import { ORIGIN_A, ORIGIN_B, classOf, makeEvent, openStore, tempDir } from './fixtures.js'
import type { CdgossipError } from '../../src/errors.js'
import type { SignedEvent } from '../../src/events/types.js'
import type { EventQuery, EventStore, StoredEvent } from '../../src/store/index.js'
import { waitFor } from '../helpers/wait-for.js'

async function codeOf (promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    return (err as CdgossipError).code
  }
  return undefined
}

/** Follows `next` until it is absent; fails on a page that does not move forward. */
async function pageAll (store: EventStore, q: EventQuery): Promise<{ events: StoredEvent[], pages: number }> {
  const events: StoredEvent[] = []
  let cursor = q.cursor
  let pages = 0
  for (;;) {
    const page = await store.query({ ...q, cursor })
    pages++
    events.push(...page.events)
    if (page.next === undefined) return { events, pages }
    expect(page.next).not.toBe(cursor)
    cursor = page.next
    if (pages > 10_000) throw new Error('paging does not end')
  }
}

const ids = (events: StoredEvent[]): string[] => events.map((s) => s.event.cdevent.context.id)
const idsOf = (events: SignedEvent[]): string[] => events.map((e) => e.cdevent.context.id)

/** A small mixed store: every filter has matches and non-matches. */
async function mixedStore (init: { maxScan?: number, timeRangeCollect?: number } = {}): Promise<{ store: EventStore, events: SignedEvent[] }> {
  const { store } = await openStore(init)
  const seq = new Map<string, number>()
  const next = (origin: string, type: string): number => {
    const key = `${origin}|${classOf(type)}`
    const n = (seq.get(key) ?? 0) + 1
    seq.set(key, n)
    return n
  }
  const events: SignedEvent[] = []
  const types = ['dev.cdevents.pipelinerun.finished.0.3.0', 'dev.cdevents.pipelinerun.finished.0.2.0', 'dev.cdevents.build.started.0.2.0', 'dev.cdeventsx.mytool-resource.created.0.1.0']
  for (let i = 0; i < 40; i++) {
    const origin = i % 3 === 0 ? ORIGIN_B : ORIGIN_A
    const type = types[i % 4] as string
    events.push(makeEvent({
      id: `e${i}`,
      type,
      origin,
      sequence: next(origin, type),
      source: i % 2 === 0 ? `https://ci.example.org/jobs/job${i % 5}/${i}` : `https://git.example.org/repo${i % 3}`,
      subjectId: `subject-${i % 7}`,
      ...(i % 4 === 1 ? { chainId: `chain-${i % 8}` } : {}),
      timestamp: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString()
    }))
  }
  for (const [i, event] of events.entries()) await store.append(event, { trusted: i % 10 !== 9 })
  return { store, events }
}

describe('EventStore query filters', () => {
  it('returns everything in arrival order without filters', async () => {
    const { store, events } = await mixedStore()
    const page = await store.query({})
    expect(ids(page.events)).toEqual(idsOf(events))
    expect(page.next).toBeUndefined()
    expect(page.events.map((s) => s.cursor)).toEqual(events.map((_, i) => (i + 1).toString(36)))
  })

  it('tells an exact type from a class', async () => {
    const { store, events } = await mixedStore()
    const exact = await store.query({ type: 'dev.cdevents.pipelinerun.finished.0.3.0' })
    expect(ids(exact.events)).toEqual(idsOf(events.filter((e) => e.cdevent.context.type === 'dev.cdevents.pipelinerun.finished.0.3.0')))
    const byClass = await store.query({ type: 'pipelinerun.finished' })
    expect(ids(byClass.events)).toEqual(idsOf(events.filter((e) => e.eventClass === 'pipelinerun.finished')))
    expect(byClass.events.length).toBe(exact.events.length * 2)
    const custom = await store.query({ type: 'x.mytool-resource.created' })
    expect(custom.events.length).toBe(10)
    expect((await store.query({ type: 'pipelinerun' })).events).toEqual([])
  })

  it('filters by source prefix, with and without a trailing slash', async () => {
    const { store, events } = await mixedStore()
    for (const prefix of ['https://ci.example.org/jobs/', 'https://ci.example.org/jobs/job1', 'https://ci.example.org/jobs/job1/', 'https://git.example.org/repo1', 'https', 'https://']) {
      const page = await store.query({ source: prefix })
      expect(ids(page.events), prefix).toEqual(idsOf(events.filter((e) => e.cdevent.context.source.startsWith(prefix))))
    }
  })

  it('filters by subject, chainId, origin and trust', async () => {
    const { store, events } = await mixedStore()
    expect(ids((await store.query({ subject: 'subject-3' })).events)).toEqual(idsOf(events.filter((e) => e.cdevent.subject.id === 'subject-3')))
    expect(ids((await store.query({ chainId: 'chain-5' })).events)).toEqual(idsOf(events.filter((e) => e.cdevent.context.chainId === 'chain-5')))
    expect(ids((await store.query({ origin: ORIGIN_B })).events)).toEqual(idsOf(events.filter((e) => e.origin === ORIGIN_B)))
    expect(ids((await store.query({ trusted: false })).events)).toEqual(idsOf(events.filter((_, i) => i % 10 === 9)))
    expect(ids((await store.query({ trusted: true })).events)).toEqual(idsOf(events.filter((_, i) => i % 10 !== 9)))
  })

  it('filters by event time, inclusive, comparing instants across offsets', async () => {
    const { store, events } = await mixedStore()
    const t = (i: number): number => Date.UTC(2024, 0, 1, 0, i)
    const page = await store.query({ since: new Date(t(10)).toISOString(), until: new Date(t(20)).toISOString() })
    expect(ids(page.events)).toEqual(idsOf(events.slice(10, 21)))
    // 01:10+01:00 is 00:10Z
    expect(ids((await store.query({ since: '2024-01-01T01:35:00+01:00' })).events)).toEqual(idsOf(events.slice(35)))
    expect(ids((await store.query({ until: '2024-01-01T00:02:00Z' })).events)).toEqual(idsOf(events.slice(0, 3)))
    expect((await store.query({ since: '2024-01-02' })).events).toEqual([])
    expect((await store.query({ since: '2024-01-01T00:20:00Z', until: '2024-01-01T00:10:00Z' })).events).toEqual([])
  })

  it('gives the same time-filtered answer when the time range is too large to collect', async () => {
    const { store, events } = await mixedStore({ timeRangeCollect: 3 })
    const page = await pageAll(store, { since: '2024-01-01T00:10:00Z', until: '2024-01-01T00:20:00Z', limit: 4 })
    expect(ids(page.events)).toEqual(idsOf(events.slice(10, 21)))
  })

  it('combines criteria', async () => {
    const { store, events } = await mixedStore()
    const q: EventQuery = { type: 'pipelinerun.finished', origin: ORIGIN_A, source: 'https://ci.example.org/', since: '2024-01-01T00:05:00Z', trusted: true }
    const expected = events.filter((e, i) => e.eventClass === 'pipelinerun.finished' && e.origin === ORIGIN_A &&
      e.cdevent.context.source.startsWith('https://ci.example.org/') && i >= 5 && i % 10 !== 9)
    expect(expected.length).toBeGreaterThan(0)
    expect(ids((await store.query(q)).events)).toEqual(idsOf(expected))
    expect(ids((await store.query({ subject: 'subject-2', type: 'build.started' })).events))
      .toEqual(idsOf(events.filter((e) => e.cdevent.subject.id === 'subject-2' && e.eventClass === 'build.started')))
  })
})

const DAY = 86_400_000
const HOUR = 3_600_000
const T0 = Date.UTC(2024, 0, 1)

/**
 * `days` days of records, `perDay` a day, two classes alternating, appended in `order` of their
 * event times (by default as they happened, so arrival follows time as on a live node).
 */
function daysOfEvents (days: number, perDay: number, order: (times: number[]) => number[] = (t) => t): SignedEvent[] {
  const times = order(Array.from({ length: days * perDay }, (_, i) => T0 + Math.floor(i / perDay) * DAY + (i % perDay) * Math.floor(DAY / perDay)))
  const seq = new Map<string, number>()
  return times.map((time, i) => {
    const type = i % 2 === 0 ? 'dev.cdevents.build.started.0.2.0' : 'dev.cdevents.pipelinerun.finished.0.3.0'
    const sequence = (seq.get(type) ?? 0) + 1
    seq.set(type, sequence)
    return makeEvent({ id: `d${i}`, type, sequence, timestamp: new Date(time).toISOString() })
  })
}

/** A deterministic shuffle, so arrival order has nothing to do with event time. */
function shuffled (values: number[]): number[] {
  const out = [...values]
  let state = 7
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j] as number, out[i] as number]
  }
  return out
}

const inWindow = (events: SignedEvent[], type: string | undefined, since: number, until: number): SignedEvent[] => events.filter((e) => {
  const t = Date.parse(e.cdevent.context.timestamp)
  return (type === undefined || e.eventClass === type) && t >= since && t <= until
})

const iso = (ms: number): string => new Date(ms).toISOString()

describe('EventStore since/until windows too large to collect', () => {
  // collect at most 5 time-index entries and examine at most 20 candidates a call: a store of
  // 30 records a day then behaves like a large one
  const small = { timeRangeCollect: 5, maxScan: 20 }

  it('finds a recent window of a long history on the first page, and pages it in arrival order', async () => {
    const { store } = await openStore(small)
    const events = daysOfEvents(20, 30)
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const since = T0 + 15 * DAY + 12 * HOUR
    const until = since + DAY
    const expected = inWindow(events, 'build.started', since, until)
    expect(expected.length).toBe(15)
    const q: EventQuery = { type: 'build.started', since: iso(since), until: iso(until), limit: 4 }
    // an arrival-order scan from the oldest record would spend its first calls on the 15.5 days
    // before the window
    expect(ids((await store.query(q)).events)).toEqual(idsOf(expected.slice(0, 4)))
    expect(ids((await pageAll(store, q)).events)).toEqual(idsOf(expected))
    expect(ids((await pageAll(store, { ...q, type: undefined })).events)).toEqual(idsOf(inWindow(events, undefined, since, until)))
    expect(ids((await pageAll(store, { ...q, until: undefined })).events)).toEqual(idsOf(inWindow(events, 'build.started', since, T0 + 20 * DAY)))
    expect(await store.query({ since: iso(T0 + 21 * DAY) })).toEqual({ events: [] })
  })

  it('still finds a record that arrived long before older ones with earlier event times', async () => {
    const { store } = await openStore(small)
    const late = makeEvent({ id: 'from-the-future', type: 'dev.cdevents.build.started.0.2.0', sequence: 1000, timestamp: iso(T0 + 9 * DAY) })
    const events = [late, ...daysOfEvents(8, 30)]
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const since = T0 + 5 * DAY
    const got = await pageAll(store, { type: 'build.started', since: iso(since), limit: 6 })
    expect(ids(got.events)).toEqual(idsOf(inWindow(events, 'build.started', since, T0 + 10 * DAY)))
    expect(ids(got.events)[0]).toBe('from-the-future')
  })

  it('gives every window of a store whose arrival has nothing to do with event time', async () => {
    const { store } = await openStore(small)
    const events = daysOfEvents(6, 30, shuffled)
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    for (const [since, until] of [[T0 + DAY + HOUR, T0 + 4 * DAY - 1], [T0 + 5 * DAY, T0 + 6 * DAY], [T0 - DAY, T0 + HOUR]]) {
      const got = await pageAll(store, { type: 'pipelinerun.finished', since: iso(since as number), until: iso(until as number), limit: 7 })
      expect(ids(got.events)).toEqual(idsOf(inWindow(events, 'pipelinerun.finished', since as number, until as number)))
    }
  })

  it('answers a small window scattered over the arrival order exactly in one call, from the event-time index', async () => {
    const { store } = await openStore(small)
    const events = daysOfEvents(6, 30, shuffled)
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const since = T0 + 2 * DAY
    const until = since + 3 * HOUR
    const expected = inWindow(events, undefined, since, until)
    expect(expected.length).toBeGreaterThan(1)
    expect(expected.length).toBeLessThanOrEqual(small.timeRangeCollect)
    // the window's records lie further apart in arrival order than one call's scan reaches
    const arrivals = expected.map((e) => events.indexOf(e))
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeGreaterThan(small.maxScan)
    const all = await store.query({ since: iso(since), until: iso(until), limit: 10 })
    expect(ids(all.events)).toEqual(idsOf(expected))
    expect(all.next).toBeUndefined()
    const first = await store.query({ since: iso(since), until: iso(until), limit: 2 })
    expect(ids(first.events)).toEqual(idsOf(expected.slice(0, 2)))
    expect(first.next).toBeDefined()
  })

  it('ends the pages where the window ends, without pages of the records after it', async () => {
    const { store } = await openStore(small)
    const events = daysOfEvents(20, 30)
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const since = T0 + 4 * DAY
    const until = since + DAY - 1
    const got = await pageAll(store, { type: 'build.started', since: iso(since), until: iso(until), limit: 100 })
    expect(ids(got.events)).toEqual(idsOf(inWindow(events, 'build.started', since, until)))
    // the window's day is 30 arrivals, two calls of 20; the 450 records after it are never walked
    expect(got.pages).toBeLessThanOrEqual(2)
    const untilOnly = await pageAll(store, { until: iso(T0 + DAY - 1), limit: 100 })
    expect(ids(untilOnly.events)).toEqual(idsOf(inWindow(events, undefined, T0, T0 + DAY - 1)))
    expect(untilOnly.pages).toBeLessThanOrEqual(2)
  })

  it.each([1, 2])('builds the arrival summary when it opens a store written before it (format %i)', async (format) => {
    const dir = await tempDir()
    const events = daysOfEvents(10, 30)
    const before = await createEventStore({}, { path: dir, ...small })
    await before.appendBatch(events.map((event) => ({ event, trusted: true })))
    await before.stop()
    // what an older store looks like: no summary (format 2 had a first-arrivals-only one)
    const raw = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    await raw.sublevel('hour-span').clear()
    if (format === 2) await raw.sublevel('hour-first').put('0475000', '1')
    await raw.sublevel<string, unknown>('meta', { valueEncoding: 'json' }).put('format', format)
    await raw.close()

    const store = await createEventStore({}, { path: dir, ...small })
    onTestFinished(async () => { await store.stop() })
    const since = T0 + 7 * DAY
    const until = since + DAY - 1
    const q: EventQuery = { type: 'build.started', since: iso(since), until: iso(until), limit: 5 }
    expect(ids((await store.query(q)).events)).toEqual(idsOf(inWindow(events, 'build.started', since, until).slice(0, 5)))
    const all = await pageAll(store, q)
    expect(ids(all.events)).toEqual(idsOf(inWindow(events, 'build.started', since, until)))
    expect(all.pages).toBeLessThanOrEqual(4)
    await store.stop()
    const left = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    expect(await left.sublevel('hour-first').keys().all()).toEqual([])
    await left.close()
  })
})

describe('eventQueryPredicate', () => {
  it('selects exactly what query returns, for records seen one at a time', async () => {
    const { store } = await mixedStore()
    const all = (await store.query({})).events
    const queries: EventQuery[] = [
      { type: 'pipelinerun.finished' },
      { type: 'dev.cdevents.build.started.0.2.0', origin: ORIGIN_A },
      { source: 'https://ci.example.org/jobs/job1' },
      { subject: 'subject-3', trusted: true },
      { chainId: 'chain-5' },
      { since: '2024-01-01T00:10:00Z', until: '2024-01-01T00:20:00Z', trusted: false }
    ]
    for (const q of queries) {
      const predicate = eventQueryPredicate(q)
      expect(ids(all.filter(predicate)), JSON.stringify(q)).toEqual(ids((await store.query(q)).events))
    }
    expect(() => eventQueryPredicate({ since: 'later' })).toThrow(expect.objectContaining({ code: 'CDG_INVALID_REQUEST' }))
  })
})

describe('EventStore query paging', () => {
  it('pages across many pages with no duplicates and no gaps', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: 257 }, (_, i) => makeEvent({ id: `p${i}`, sequence: i + 1, type: i % 2 === 0 ? 'dev.cdevents.build.started.0.2.0' : 'dev.cdevents.pipelinerun.finished.0.3.0' }))
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const all = await pageAll(store, { limit: 10 })
    expect(ids(all.events)).toEqual(idsOf(events))
    expect(all.pages).toBe(26)
    const builds = await pageAll(store, { type: 'build.started', limit: 7 })
    expect(ids(builds.events)).toEqual(idsOf(events.filter((_, i) => i % 2 === 0)))
  })

  it('sets next exactly when more records follow a full page', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: 4 }, (_, i) => makeEvent({ sequence: i + 1 }))
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const first = await store.query({ limit: 2 })
    expect(first.next).toBe('2')
    const second = await store.query({ limit: 2, cursor: first.next })
    expect(second.events.map((s) => s.cursor)).toEqual(['3', '4'])
    expect(second.next).toBeUndefined()
    expect(await store.query({ cursor: '4' })).toEqual({ events: [] })
    expect((await store.query({ cursor: '0' })).events).toHaveLength(4)
  })

  it('bounds a post-filtered scan and hands back a cursor to continue from', async () => {
    const { store } = await openStore({ maxScan: 20 })
    const events = Array.from({ length: 100 }, (_, i) => makeEvent({ id: `s${i}`, sequence: i + 1, subjectId: i === 90 ? 'needle' : 'hay', chainId: 'c' }))
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    // chainId is indexed, the subject is scanned with it: the needle is past the first call's bound.
    const first = await store.query({ chainId: 'c', origin: ORIGIN_B })
    expect(first.events).toEqual([])
    expect(first.next).toBeDefined()
    const all = await pageAll(store, { chainId: 'c', trusted: true, source: '/event/', type: 'pipelinerun.finished', limit: 1000 })
    expect(all.events).toHaveLength(100)
    const needle = await pageAll(store, { chainId: 'c', type: 'dev.cdevents.pipelinerun.finished.0.3.0', origin: ORIGIN_A, since: '2024-01-01', limit: 5 })
    expect(needle.events).toHaveLength(100)
    const sparse = await pageAll(store, { trusted: true, source: 'nothing-like-it' })
    expect(sparse.events).toEqual([])
    expect(sparse.pages).toBeGreaterThanOrEqual(5)
  })

  it('clamps the limit to MAX_PAGE_SIZE', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: MAX_PAGE_SIZE + 5 }, (_, i) => makeEvent({ sequence: i + 1 }))
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const page = await store.query({ limit: 1_000_000 })
    expect(page.events).toHaveLength(MAX_PAGE_SIZE)
    expect(page.next).toBe(MAX_PAGE_SIZE.toString(36))
    expect((await store.query({})).events).toHaveLength(100)
    expect(await store.readAfter(undefined, 5000)).toHaveLength(MAX_PAGE_SIZE)
  })

  it('refuses bad cursors, limits and filters with CDG_INVALID_REQUEST', async () => {
    const { store } = await openStore()
    for (const cursor of ['', 'ABC', '-1', '01', 'zzzzzzzzzzzz', '1.5', 'abc!', '\u0000']) {
      expect(await codeOf(store.query({ cursor })), cursor).toBe('CDG_INVALID_REQUEST')
      expect(await codeOf(store.readAfter(cursor, 10)), cursor).toBe('CDG_INVALID_REQUEST')
    }
    for (const limit of [0, -1, 1.5, Number.NaN]) {
      expect(await codeOf(store.query({ limit })), String(limit)).toBe('CDG_INVALID_REQUEST')
    }
    expect(await codeOf(store.query({ since: 'yesterday' }))).toBe('CDG_INVALID_REQUEST')
    expect(await codeOf(store.query({ until: '2024-01-01T10:00:00' }))).toBe('CDG_INVALID_REQUEST')
    expect(await codeOf(store.query({ since: '2024-13-45' }))).toBe('CDG_INVALID_REQUEST')
    expect(await codeOf(store.query({ type: '' }))).toBe('CDG_INVALID_REQUEST')
    expect(await codeOf(store.query({ subject: 'x'.repeat(5000) }))).toBe('CDG_INVALID_REQUEST')
    expect(await codeOf(store.query({ trusted: 'yes' as unknown as boolean }))).toBe('CDG_INVALID_REQUEST')
  })

  it('indexes values with separator characters and very long values correctly', async () => {
    const { store } = await openStore()
    const longSubject = 's'.repeat(600)
    const a = makeEvent({ sequence: 1, subjectId: 'a\u0000b', source: 'weird\u0001/x' })
    const b = makeEvent({ sequence: 2, subjectId: 'a' })
    const c = makeEvent({ sequence: 3, subjectId: `${longSubject}1` })
    const d = makeEvent({ sequence: 4, subjectId: `${longSubject}2` })
    await store.appendBatch([a, b, c, d].map((event) => ({ event, trusted: true })))
    expect((await store.query({ subject: 'a' })).events.map((s) => s.event.digest)).toEqual([b.digest])
    expect((await store.query({ subject: 'a\u0000b' })).events.map((s) => s.event.digest)).toEqual([a.digest])
    expect((await store.query({ source: 'weird\u0001/' })).events.map((s) => s.event.digest)).toEqual([a.digest])
    expect((await store.query({ subject: `${longSubject}2` })).events.map((s) => s.event.digest)).toEqual([d.digest])
  })
})

describe('EventStore arrival reads', () => {
  it('reads after a cursor and finds the cursor for a receive time', async () => {
    const { store } = await openStore()
    expect(store.lastCursor()).toBeUndefined()
    expect(await store.cursorAtTime('2020-01-01T00:00:00Z')).toBeUndefined()
    const events = Array.from({ length: 5 }, (_, i) => makeEvent({ sequence: i + 1 }))
    const before = new Date().toISOString()
    await store.appendBatch(events.slice(0, 3).map((event) => ({ event, trusted: true })))
    // receive times are monotonic; wait until the clock has moved past the first batch
    const firstBatchAt = (await store.get(events[0]?.digest as string))?.receivedAt as string
    await waitFor(() => new Date().toISOString() > firstBatchAt, { interval: 1, message: 'the clock to move past the first batch' })
    const between = new Date().toISOString()
    await store.appendBatch(events.slice(3).map((event) => ({ event, trusted: true })))

    expect(store.lastCursor()).toBe('5')
    expect((await store.readAfter(undefined, 100)).map((s) => s.cursor)).toEqual(['1', '2', '3', '4', '5'])
    expect((await store.readAfter('2', 2)).map((s) => s.cursor)).toEqual(['3', '4'])
    expect(await store.readAfter('5', 10)).toEqual([])

    expect(await store.cursorAtTime(before)).toBe('0')
    expect(await store.cursorAtTime(between)).toBe('3')
    expect(await store.cursorAtTime('2999-01-01T00:00:00Z')).toBe('5')
    expect(await codeOf(store.cursorAtTime('soon'))).toBe('CDG_INVALID_REQUEST')
  })
})
