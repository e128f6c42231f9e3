import { describe, it, expect } from 'vitest'
import { createEventStore, EventStore } from '../../src/store/index.js'
import { ORIGIN_A, ORIGIN_B, makeEvent, tempDir } from './fixtures.js'
import { onTestFinished } from 'vitest'

async function reopenable (): Promise<{ store: EventStore, dir: string }> {
  const dir = await tempDir()
  const store = new EventStore({}, { path: dir })
  await store.start()
  onTestFinished(async () => { await store.stop() })
  return { store, dir }
}

describe('EventStore restart', () => {
  it('keeps records, counters, cursors, sequence states and sections across stop/start', async () => {
    const { store } = await reopenable()
    await store.appendBatch([1, 2, 4].map((sequence) => ({ event: makeEvent({ sequence }), trusted: true })))
    await store.append(makeEvent({ sequence: 1, origin: ORIGIN_B }), { trusted: false })
    await store.section<{ n: number }>('delivery-progress').put('sub-1', { n: 3 })
    const statesBefore = await store.sequenceStates()
    const pageBefore = await store.query({})
    const statsBefore = await store.stats()
    await store.stop()
    expect(store.isStarted()).toBe(false)

    await store.start()
    expect(store.lastCursor()).toBe('4')
    expect(await store.sequenceStates()).toEqual(statesBefore)
    expect(await store.highestSequence(ORIGIN_A, 'pipelinerun.finished')).toBe(4)
    expect(await store.missingSequences(ORIGIN_A, 'pipelinerun.finished', 10)).toEqual([3])
    expect((await store.stats()).events).toBe(statsBefore.events)
    const pageAfter = await store.query({})
    expect(pageAfter.events.map((s) => [s.cursor, s.event.digest, s.receivedAt, s.trusted]))
      .toEqual(pageBefore.events.map((s) => [s.cursor, s.event.digest, s.receivedAt, s.trusted]))
    expect(await store.section<{ n: number }>('delivery-progress').get('sub-1')).toEqual({ n: 3 })

    // the counter continues where it was; the sequence cache still detects equivocation
    const next = await store.append(makeEvent({ sequence: 3 }), { trusted: true })
    expect(next.stored.cursor).toBe('5')
    expect((await store.sequenceStates([ 'pipelinerun.finished' ])).find((s) => s.origin === ORIGIN_A)).toMatchObject({ highest: 4, contiguous: 4 })
    const err = await store.append(makeEvent({ sequence: 2 }), { trusted: true }).catch((e: unknown) => e)
    expect((err as { code: string }).code).toBe('CDG_CONFLICTING_EVENT')
  })

  it('keeps receive times monotonic across a restart', async () => {
    const { store } = await reopenable()
    const first = await store.append(makeEvent({ sequence: 1 }), { trusted: true })
    await store.stop()
    await store.start()
    const second = await store.append(makeEvent({ sequence: 2 }), { trusted: true })
    expect(second.stored.receivedAt >= first.stored.receivedAt).toBe(true)
    expect(await store.cursorAtTime(second.stored.receivedAt)).toBe(first.stored.receivedAt === second.stored.receivedAt ? '0' : '1')
  })

  it('opens through createEventStore on an existing directory', async () => {
    const { store, dir } = await reopenable()
    await store.append(makeEvent({ sequence: 1 }), { trusted: true })
    await store.stop()
    const again = await createEventStore({}, { path: dir })
    onTestFinished(async () => { await again.stop() })
    expect(again.lastCursor()).toBe('1')
    expect((await again.stats()).events).toBe(1)
  })

  it('completes writes queued before stop, then closes the database', async () => {
    const { store } = await reopenable()
    const writes = Array.from({ length: 20 }, async (_, i) => store.append(makeEvent({ sequence: i + 1 }), { trusted: true }))
    const stopping = store.stop()
    const results = await Promise.allSettled(writes)
    await stopping
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(20)
    const late = await store.append(makeEvent({ sequence: 21 }), { trusted: true }).catch((e: unknown) => e)
    expect((late as { code: string }).code).toBe('CDG_NOT_STARTED')
    await store.start()
    expect((await store.stats()).events).toBe(20)
    expect(store.lastCursor()).toBe((20).toString(36))
  })
})
