import { describe, it, expect } from 'vitest'
import { EventStore } from '../../src/store/index.js'
import { ORIGIN_A, ORIGIN_B, makeEvent, openStore, tempDir } from './fixtures.js'
import type { CdgossipError } from '../../src/errors.js'
import type { SignedEvent } from '../../src/events/types.js'
import type { StoredEvent } from '../../src/store/index.js'

async function codeOf (promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    return (err as CdgossipError).code
  }
  return undefined
}

function expectSameEvent (stored: StoredEvent | undefined, event: SignedEvent): void {
  expect(stored).toBeDefined()
  const got = stored?.event as SignedEvent
  expect(got.digest).toBe(event.digest)
  expect(Buffer.from(got.bytes).equals(Buffer.from(event.bytes))).toBe(true)
  expect(Buffer.from(got.data).equals(Buffer.from(event.data))).toBe(true)
  expect(got.attributes).toEqual(event.attributes)
  expect(got.origin).toBe(event.origin)
  expect(got.sequence).toBe(event.sequence)
  expect(got.eventClass).toBe(event.eventClass)
  expect(got.cdevent).toEqual(event.cdevent)
}

describe('EventStore append and point reads', () => {
  it('stores a record and reads it back by digest and by (source, id)', async () => {
    const { store } = await openStore()
    const event = makeEvent({ sequence: 1 })
    const outcome = await store.append(event, { trusted: true })
    expect(outcome.status).toBe('stored')
    expect(outcome.stored.cursor).toBe('1')
    expect(outcome.stored.trusted).toBe(true)
    expect(Number.isNaN(Date.parse(outcome.stored.receivedAt))).toBe(false)

    const byDigest = await store.get(event.digest)
    expectSameEvent(byDigest, event)
    expect(byDigest?.cursor).toBe('1')
    expect(byDigest?.receivedAt).toBe(outcome.stored.receivedAt)
    expect(byDigest?.trusted).toBe(true)
    expectSameEvent(await store.getBySourceAndId(event.cdevent.context.source, event.cdevent.context.id), event)
    expect(await store.has(event.digest)).toBe(true)
  })

  it('rebuilds the event so that spreading and serialising keep cdevent', async () => {
    const { store } = await openStore()
    const event = makeEvent({ sequence: 1 })
    await store.append(event, { trusted: false })
    const stored = await store.get(event.digest)
    expect(stored?.trusted).toBe(false)
    const copy = { ...stored?.event }
    expect(copy.cdevent).toEqual(event.cdevent)
    expect(JSON.parse(JSON.stringify(stored?.event)).cdevent).toEqual(event.cdevent)
  })

  it('answers undefined / false for records it does not hold', async () => {
    const { store } = await openStore()
    expect(await store.get('0'.repeat(64))).toBeUndefined()
    expect(await store.has('0'.repeat(64))).toBe(false)
    expect(await store.getBySourceAndId('/nowhere', 'nothing')).toBeUndefined()
  })

  it('refuses a malformed digest with CDG_INVALID_REQUEST', async () => {
    const { store } = await openStore()
    expect(await codeOf(store.get('not-a-digest'))).toBe('CDG_INVALID_REQUEST')
    expect(await codeOf(store.has('A'.repeat(64)))).toBe('CDG_INVALID_REQUEST')
  })

  it('reports the same record twice as a duplicate pointing at the first copy', async () => {
    const { store } = await openStore()
    const event = makeEvent({ sequence: 1 })
    const first = await store.append(event, { trusted: true })
    const again = await store.append(event, { trusted: false })
    expect(again.status).toBe('duplicate')
    expect(again.stored.cursor).toBe(first.stored.cursor)
    expect(again.stored.trusted).toBe(true)
    expect((await store.stats()).events).toBe(1)
    expect(store.lastCursor()).toBe('1')
  })

  it('refuses the same (source, id) with different content and keeps the first', async () => {
    const { store } = await openStore()
    const first = makeEvent({ id: 'same', sequence: 1 })
    const second = makeEvent({ id: 'same', sequence: 2, content: { outcome: 'failure' } })
    await store.append(first, { trusted: true })
    const err = await store.append(second, { trusted: true }).catch((e: unknown) => e) as CdgossipError<{ kind: string, existingDigest: string }>
    expect(err.code).toBe('CDG_CONFLICTING_EVENT')
    expect(err.name).toBe('ConflictingEventError')
    expect(err.details?.kind).toBe('source-id')
    expect(err.details?.existingDigest).toBe(first.digest)
    expect(await store.has(second.digest)).toBe(false)
    expect(await store.highestSequence(ORIGIN_A, first.eventClass)).toBe(1)
    expect(store.lastCursor()).toBe('1')
  })

  it('refuses a second record with the same (origin, class, sequence): first wins', async () => {
    const { store } = await openStore()
    const first = makeEvent({ sequence: 7 })
    const equivocation = makeEvent({ sequence: 7 })
    await store.append(first, { trusted: true })
    const err = await store.append(equivocation, { trusted: true }).catch((e: unknown) => e) as CdgossipError<{ kind: string, existingDigest: string }>
    expect(err.code).toBe('CDG_CONFLICTING_EVENT')
    expect(err.details?.kind).toBe('sequence')
    expect(err.details?.existingDigest).toBe(first.digest)
    expect(await store.has(equivocation.digest)).toBe(false)

    // the same sequence number is free for another origin and for another class
    expect((await store.append(makeEvent({ sequence: 7, origin: ORIGIN_B }), { trusted: true })).status).toBe('stored')
    expect((await store.append(makeEvent({ sequence: 7, type: 'dev.cdevents.build.started.0.2.0' }), { trusted: true })).status).toBe('stored')
  })

  it('refuses events it cannot index with CDG_INVALID_EVENT', async () => {
    const { store } = await openStore()
    const event = makeEvent()
    expect(await codeOf(store.append({ ...event, sequence: 0 }, { trusted: true }))).toBe('CDG_INVALID_EVENT')
    expect(await codeOf(store.append({ ...event, digest: 'xyz' }, { trusted: true }))).toBe('CDG_INVALID_EVENT')
    expect((await store.stats()).events).toBe(0)
  })

  it('serialises concurrent appends: unique cursors, one winner per conflicting pair', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: 50 }, (_, i) => makeEvent({ sequence: i + 1 }))
    const rivals = events.slice(0, 10).map((e) => makeEvent({ id: e.cdevent.context.id, sequence: 1000 + e.sequence }))
    const results = await Promise.allSettled([...events, ...events.slice(0, 10), ...rivals].map(async (e) => store.append(e, { trusted: true })))
    const stored = results.filter((r) => r.status === 'fulfilled' && r.value.status === 'stored')
    const duplicates = results.filter((r) => r.status === 'fulfilled' && r.value.status === 'duplicate')
    const refused = results.filter((r) => r.status === 'rejected')
    expect(stored).toHaveLength(50)
    expect(duplicates).toHaveLength(10)
    expect(refused).toHaveLength(10)
    for (const r of refused) expect(((r as PromiseRejectedResult).reason as CdgossipError).code).toBe('CDG_CONFLICTING_EVENT')
    const cursors = new Set(stored.map((r) => (r as PromiseFulfilledResult<{ stored: StoredEvent }>).value.stored.cursor))
    expect(cursors.size).toBe(50)
    expect((await store.stats()).events).toBe(50)
    expect(await store.highestSequence(ORIGIN_A, events[0]?.eventClass as string)).toBe(50)
  })

  it('throws CDG_NOT_STARTED outside start/stop and starts/stops idempotently', async () => {
    const dir = await tempDir()
    const store = new EventStore({}, { path: dir })
    expect(await codeOf(store.get('0'.repeat(64)))).toBe('CDG_NOT_STARTED')
    expect(() => store.lastCursor()).toThrow(expect.objectContaining({ code: 'CDG_NOT_STARTED' }))
    await Promise.all([store.start(), store.start()])
    await store.start()
    expect(store.isStarted()).toBe(true)
    await Promise.all([store.stop(), store.stop()])
    await store.stop()
    expect(await codeOf(store.append(makeEvent(), { trusted: true }))).toBe('CDG_NOT_STARTED')
  })

  it('reports a second process on the same directory as CDG_STORE', async () => {
    const { dir } = await openStore()
    const other = new EventStore({}, { path: dir })
    expect(await codeOf(other.start())).toBe('CDG_STORE')
    expect(other.isStarted()).toBe(false)
  })

  it('counts events and bytes in stats', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: 5 }, (_, i) => makeEvent({ sequence: i + 1 }))
    for (const e of events) await store.append(e, { trusted: true })
    const stats = await store.stats()
    expect(stats.events).toBe(5)
    expect(stats.approximateBytes).toBeGreaterThanOrEqual(events.reduce((n, e) => n + e.bytes.length, 0))
  })
})

describe('EventStore appendBatch', () => {
  it('stores a batch with consecutive cursors in item order', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: 3 }, (_, i) => makeEvent({ sequence: i + 1 }))
    const outcomes = await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    expect(outcomes.map((o) => o.status)).toEqual(['stored', 'stored', 'stored'])
    expect(outcomes.map((o) => o.stored.cursor)).toEqual(['1', '2', '3'])
    expect(await store.highestSequence(ORIGIN_A, events[0]?.eventClass as string)).toBe(3)
  })

  it('writes nothing when any item conflicts with the store', async () => {
    const { store } = await openStore()
    const held = makeEvent({ id: 'taken', sequence: 1 })
    await store.append(held, { trusted: true })
    const fresh = makeEvent({ sequence: 2 })
    const conflicting = makeEvent({ id: 'taken', sequence: 3 })
    const err = await store.appendBatch([{ event: fresh, trusted: true }, { event: conflicting, trusted: true }]).catch((e: unknown) => e)
    expect((err as CdgossipError).code).toBe('CDG_CONFLICTING_EVENT')
    expect(await store.has(fresh.digest)).toBe(false)
    expect(await store.has(conflicting.digest)).toBe(false)
    expect((await store.stats()).events).toBe(1)
    expect(store.lastCursor()).toBe('1')
    expect(await store.highestSequence(ORIGIN_A, held.eventClass)).toBe(1)
    // the store still works and the next cursor follows on
    expect((await store.append(fresh, { trusted: true })).stored.cursor).toBe('2')
  })

  it('writes nothing when two items of the batch conflict with each other', async () => {
    const { store } = await openStore()
    const a = makeEvent({ sequence: 1 })
    const b = makeEvent({ sequence: 1 })
    const err = await store.appendBatch([{ event: a, trusted: true }, { event: b, trusted: true }]).catch((e: unknown) => e)
    expect((err as CdgossipError<{ kind: string }>).details?.kind).toBe('sequence')
    expect((await store.stats()).events).toBe(0)
  })

  it('treats repeats inside the batch and records already held as duplicates', async () => {
    const { store } = await openStore()
    const held = makeEvent({ sequence: 1 })
    await store.append(held, { trusted: true })
    const fresh = makeEvent({ sequence: 2 })
    const outcomes = await store.appendBatch([
      { event: held, trusted: true },
      { event: fresh, trusted: true },
      { event: fresh, trusted: false },
      { event: held, trusted: true }
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['duplicate', 'stored', 'duplicate', 'duplicate'])
    expect(outcomes[0]?.stored.cursor).toBe('1')
    expect(outcomes[1]?.stored.cursor).toBe('2')
    expect(outcomes[2]?.stored.cursor).toBe('2')
    expect(outcomes[3]?.stored.cursor).toBe('1')
    expect((await store.stats()).events).toBe(2)
  })

  it('commits calls that arrive together in one write, each all-or-nothing on its own', async () => {
    const { store } = await openStore()
    const a = [makeEvent({ sequence: 1 }), makeEvent({ sequence: 2 })]
    const rival = makeEvent({ id: a[0]?.cdevent.context.id, sequence: 3 })
    const b = [makeEvent({ sequence: 4 }), rival]
    const c = [makeEvent({ sequence: 5 })]
    const results = await Promise.allSettled([a, b, c].map(async (events) => store.appendBatch(events.map((event) => ({ event, trusted: true })))))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(await codeOf(Promise.reject((results[1] as PromiseRejectedResult).reason))).toBe('CDG_CONFLICTING_EVENT')
    // the refused call left nothing behind, and took no cursor
    expect(await store.has(b[0]?.digest as string)).toBe(false)
    const cursors = [results[0], results[2]].flatMap((r) => (r as PromiseFulfilledResult<Array<{ stored: StoredEvent }>>).value.map((o) => o.stored.cursor))
    expect(cursors).toEqual(['1', '2', '3'])
    expect((await store.stats()).events).toBe(3)
  })

  it('reports the highest sequence held before each stored record, across calls written together', async () => {
    const { store } = await openStore()
    await store.append(makeEvent({ sequence: 1 }), { trusted: true })
    const outcomes = await Promise.all([2, 5, 3, 9].map(async (sequence) => store.append(makeEvent({ sequence }), { trusted: true })))
    expect(outcomes.map((o) => o.status === 'stored' ? o.highestBefore : undefined)).toEqual([1, 2, 5, 5])
  })

  it('finishes every queued write before stop closes the store, also past one write\'s bound', async () => {
    const { store, dir } = await openStore()
    const calls = [0, 1].map((c) => Array.from({ length: 6000 }, (_, i) => ({ event: makeEvent({ sequence: c * 6000 + i + 1 }), trusted: true })))
    const writes = calls.map(async (items) => store.appendBatch(items))
    await store.stop()
    expect((await Promise.all(writes)).flat()).toHaveLength(12_000)
    const reopened = new EventStore({}, { path: dir })
    await reopened.start()
    expect((await reopened.stats()).events).toBe(12_000)
    await reopened.stop()
  })

  it('accepts an empty batch and refuses an oversized one', async () => {
    const { store } = await openStore()
    expect(await store.appendBatch([])).toEqual([])
    const event = makeEvent()
    expect(await codeOf(store.appendBatch(Array.from({ length: 10_001 }, () => ({ event, trusted: true }))))).toBe('CDG_INVALID_REQUEST')
  })
})
