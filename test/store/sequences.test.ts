import { createHash } from 'node:crypto'
import { describe, it, expect } from 'vitest'
import { ORIGIN_A, ORIGIN_B, collect, makeEvent, openStore } from './fixtures.js'
import type { CdgossipError } from '../../src/errors.js'
import type { EventStore } from '../../src/store/index.js'

const FINISHED = 'dev.cdevents.pipelinerun.finished.0.3.0'
const STARTED = 'dev.cdevents.build.started.0.2.0'

/** The sequence a wire record carries. */
function sequenceOf (bytes: Uint8Array): number {
  return Number((JSON.parse(Buffer.from(bytes).toString('utf8')) as { sequence: string }).sequence)
}

async function put (store: EventStore, origin: string, type: string, sequences: number[]): Promise<void> {
  for (const sequence of sequences) await store.append(makeEvent({ origin, type, sequence }), { trusted: true })
}

describe('EventStore sequences', () => {
  it('tracks highest and contiguous per (origin, class) as records arrive out of order', async () => {
    const { store } = await openStore()
    expect(await store.highestSequence(ORIGIN_A, 'pipelinerun.finished')).toBe(0)
    await put(store, ORIGIN_A, FINISHED, [2, 3, 5])
    expect(await store.sequenceStates()).toEqual([{ origin: ORIGIN_A, eventClass: 'pipelinerun.finished', highest: 5, contiguous: 0 }])
    expect(await store.missingSequences(ORIGIN_A, 'pipelinerun.finished', 100)).toEqual([1, 4])

    await put(store, ORIGIN_A, FINISHED, [1])
    let [state] = await store.sequenceStates(['pipelinerun.finished'])
    expect(state).toMatchObject({ highest: 5, contiguous: 3 })
    expect(await store.missingSequences(ORIGIN_A, 'pipelinerun.finished', 100)).toEqual([4])

    await put(store, ORIGIN_A, FINISHED, [4])
    ;[state] = await store.sequenceStates(['pipelinerun.finished'])
    expect(state).toMatchObject({ highest: 5, contiguous: 5 })
    expect(await store.missingSequences(ORIGIN_A, 'pipelinerun.finished', 100)).toEqual([])
    expect(await store.highestSequence(ORIGIN_A, 'pipelinerun.finished')).toBe(5)
  })

  it('closes gaps that span more than one scan chunk', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: 600 }, (_, i) => makeEvent({ sequence: i + 2 }))
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    expect((await store.sequenceStates())[0]).toMatchObject({ highest: 601, contiguous: 0 })
    await store.append(makeEvent({ sequence: 1 }), { trusted: true })
    expect((await store.sequenceStates())[0]).toMatchObject({ highest: 601, contiguous: 601 })
  })

  it('computes contiguous correctly inside one batch', async () => {
    const { store } = await openStore()
    await store.appendBatch([3, 1, 2, 6].map((sequence) => ({ event: makeEvent({ sequence }), trusted: true })))
    expect((await store.sequenceStates())[0]).toMatchObject({ highest: 6, contiguous: 3 })
  })

  it('keeps origins and classes apart and filters states by class', async () => {
    const { store } = await openStore()
    await put(store, ORIGIN_A, FINISHED, [1, 2])
    await put(store, ORIGIN_B, FINISHED, [1, 3])
    await put(store, ORIGIN_A, STARTED, [1])
    const all = await store.sequenceStates()
    expect(all).toHaveLength(3)
    const finished = await store.sequenceStates(['pipelinerun.finished'])
    expect(finished).toEqual([
      { origin: ORIGIN_A, eventClass: 'pipelinerun.finished', highest: 2, contiguous: 2 },
      { origin: ORIGIN_B, eventClass: 'pipelinerun.finished', highest: 3, contiguous: 1 }
    ].sort((a, b) => a.origin < b.origin ? -1 : 1))
    expect(await store.sequenceStates(['artifact.published'])).toEqual([])
    expect(await store.highestSequence(ORIGIN_B, 'build.started')).toBe(0)
    // returned states are copies: callers cannot corrupt the cache
    ;(finished[0] as { highest: number }).highest = 99
    expect(await store.highestSequence(finished[0]?.origin as string, 'pipelinerun.finished')).not.toBe(99)
  })

  it('bounds the gaps it reports', async () => {
    const { store } = await openStore()
    await put(store, ORIGIN_A, FINISHED, [1, 50, 100])
    expect(await store.missingSequences(ORIGIN_A, 'pipelinerun.finished', 5)).toEqual([2, 3, 4, 5, 6])
    const all = await store.missingSequences(ORIGIN_A, 'pipelinerun.finished', 1000)
    expect(all).toHaveLength(97)
    expect(all.includes(50)).toBe(false)
    expect(all[all.length - 1]).toBe(99)
    expect(await store.missingSequences(ORIGIN_B, 'pipelinerun.finished', 5)).toEqual([])
    const err = await store.missingSequences(ORIGIN_A, 'pipelinerun.finished', 0).catch((e: unknown) => e)
    expect((err as CdgossipError).code).toBe('CDG_INVALID_REQUEST')
  })

  it('streams a sequence range in ascending order, skipping what is not held', async () => {
    const { store } = await openStore()
    await put(store, ORIGIN_A, FINISHED, [5, 1, 3, 2, 7])
    await put(store, ORIGIN_B, FINISHED, [4])
    const range = await collect(store.readSequenceRange(ORIGIN_A, 'pipelinerun.finished', 2, 6))
    expect(range.map(sequenceOf)).toEqual([2, 3, 5])
    // exactly the bytes stored
    for (const bytes of range) expect(Buffer.from(bytes).equals(Buffer.from((await store.get(createHash('sha256').update(bytes).digest('hex')))?.event.bytes ?? []))).toBe(true)
    expect(await collect(store.readSequenceRange(ORIGIN_A, 'pipelinerun.finished', 8, 100))).toEqual([])
    expect(await collect(store.readSequenceRange(ORIGIN_A, 'pipelinerun.finished', 5, 4))).toEqual([])
    expect((await collect(store.readSequenceRange(ORIGIN_A, 'pipelinerun.finished', 0, 1))).map(sequenceOf)).toEqual([1])
  })

  it('streams long ranges and can be abandoned midway', async () => {
    const { store } = await openStore()
    const events = Array.from({ length: 300 }, (_, i) => makeEvent({ sequence: i + 1 }))
    await store.appendBatch(events.map((event) => ({ event, trusted: true })))
    const all = await collect(store.readSequenceRange(ORIGIN_A, 'pipelinerun.finished', 1, 1000))
    expect(all.map(sequenceOf)).toEqual(events.map((e) => e.sequence))
    let seen = 0
    for await (const bytes of store.readSequenceRange(ORIGIN_A, 'pipelinerun.finished', 1, 300)) {
      seen = sequenceOf(bytes)
      if (seen === 70) break
    }
    expect(seen).toBe(70)
  })
})
