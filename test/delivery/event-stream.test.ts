import { describe, expect, it, onTestFinished } from 'vitest'
import { HEARTBEAT_FRAME, openEventStream } from '../../src/delivery/index.js'
import { eventViewJson } from '../../src/store/index.js'
import type { EventStreamOptions } from '../../src/delivery/index.js'
import type { StoredEvent } from '../../src/store/types.js'
import { MemorySource, ORIGIN, cursorOf, makeStored } from './fixtures.js'

interface Frame {
  id?: string
  event?: string
  data?: string
  comment?: string
}

function parseFrame (frame: string): Frame {
  expect(frame.endsWith('\n\n')).toBe(true)
  const parsed: Frame = {}
  for (const line of frame.slice(0, -2).split('\n')) {
    if (line.startsWith(':')) parsed.comment = line.slice(1).trim()
    else {
      const colon = line.indexOf(':')
      const field = line.slice(0, colon) as 'id' | 'event' | 'data'
      parsed[field] = line.slice(colon + 1).replace(/^ /, '')
    }
  }
  return parsed
}

type Stream = AsyncIterator<string, void, undefined>

function open (options: Partial<EventStreamOptions> & Pick<EventStreamOptions, 'source'>): { stream: Stream, controller: AbortController } {
  const controller = new AbortController()
  const stream = openEventStream({
    filter: () => true,
    maxBuffered: 100,
    heartbeatMs: 60_000,
    signal: controller.signal,
    ...options
  })[Symbol.asyncIterator]()
  onTestFinished(async () => {
    controller.abort()
    await stream.return?.()
  })
  return { stream, controller }
}

async function next (stream: Stream): Promise<Frame> {
  const result = await stream.next()
  if (result.done === true) throw new Error('stream ended')
  return parseFrame(result.value)
}

/** ids of the next `n` frames, which must all be events */
async function takeIds (stream: Stream, n: number, onFrame?: (frame: Frame) => void): Promise<string[]> {
  const ids: string[] = []
  while (ids.length < n) {
    const frame = await next(stream)
    expect(frame.event).toBe('cdevent')
    ids.push(frame.id ?? '')
    onFrame?.(frame)
  }
  return ids
}

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => cursorOf(from + i))

describe('openEventStream', () => {
  it('replays after a cursor, then follows live records, with the event view as data', async () => {
    const source = new MemorySource()
    source.append(...[1, 2, 3, 4, 5].map(n => makeStored(n)), makeStored(6, { trusted: false }))
    const { stream } = open({ source, after: cursorOf(2), filter: s => s.trusted })

    const first = await next(stream)
    expect(first.id).toBe(cursorOf(3))
    expect(first.event).toBe('cdevent')
    const stored = makeStored(3)
    const view = JSON.parse(first.data ?? '') as Record<string, unknown>
    expect(view).toEqual({
      cursor: cursorOf(3),
      digest: stored.event.digest,
      origin: ORIGIN,
      class: 'pipelinerun.finished',
      sequence: 3,
      trusted: true,
      receivedAt: stored.receivedAt,
      cloudEvent: JSON.parse(Buffer.from(stored.event.bytes).toString('utf8')),
      cdevent: stored.event.cdevent
    })
    expect(first.data).toBe(eventViewJson(stored))
    expect((view.cloudEvent as Record<string, unknown>).data_base64).toBe(Buffer.from(stored.event.data).toString('base64'))

    expect(await takeIds(stream, 2)).toEqual(range(4, 5))

    const pending = next(stream)
    source.append(makeStored(7, { trusted: false }), makeStored(8))
    expect((await pending).id).toBe(cursorOf(8))
    source.append(makeStored(9), makeStored(10))
    expect(await takeIds(stream, 2)).toEqual(range(9, 10))
  })

  it('resumes with the last id: exactly the rest, no duplicates', async () => {
    const source = new MemorySource()
    source.append(...[1, 2, 3].map(n => makeStored(n)))
    const first = open({ source })
    let stored = 3
    // live records keep arriving while the client reads
    const seen = await takeIds(first.stream, 4, () => { if (stored < 6) source.append(makeStored(++stored)) })
    expect(seen).toEqual(range(1, 4))

    first.controller.abort()
    await first.stream.return?.()
    expect(source.listenerCount()).toBe(0)
    source.append(makeStored(7))

    const second = open({ source, after: seen.at(-1) })
    const rest = await takeIds(second.stream, 3)
    expect([...seen, ...rest]).toEqual(range(1, 7))
    source.append(makeStored(8))
    expect(await takeIds(second.stream, 1)).toEqual([cursorOf(8)])
  })

  it('switches from replay to live without gap or duplicate, even when listeners run late', async () => {
    const source = new MemorySource()
    source.append(...[1, 2, 3, 4, 5].map(n => makeStored(n)))
    const e6 = makeStored(6)
    const e7 = makeStored(7)
    const reads: Array<string | undefined> = []
    source.beforeRead = cursor => {
      reads.push(cursor)
      // stored during the replay, but its listeners only run after the replay has sent it
      if (reads.length === 1) source.appendSilently(e6)
      if (cursor === cursorOf(6)) {
        source.announce(e6)
        source.appendSilently(e7)
      }
    }
    const { stream } = open({ source, pageSize: 2, heartbeatMs: 50 })

    expect(await takeIds(stream, 7)).toEqual(range(1, 7))
    // e7 is announced only now, after the stream went live: still no duplicate
    source.announce(e7)
    source.append(makeStored(8))
    expect(await takeIds(stream, 1)).toEqual([cursorOf(8)])
    expect((await next(stream)).comment).toBe('ping')
    expect(reads).toEqual([undefined, cursorOf(2), cursorOf(4), cursorOf(6)])
  })

  it('catches up from the store when live records outrun the buffer during replay', async () => {
    const source = new MemorySource()
    // one record: the first page is short, and the buffer is dropped while its last record is out
    source.append(makeStored(1))
    const { stream } = open({ source, pageSize: 2, maxBuffered: 2, heartbeatMs: 50 })
    let stored = 1
    const ids = await takeIds(stream, 20, () => {
      for (let i = 0; i < 3 && stored < 20; i++) source.append(makeStored(++stored))
    })
    expect(ids).toEqual(range(1, 20))
    expect((await next(stream)).comment).toBe('ping')
  })

  it('ends with an overflow frame when a live consumer falls maxBuffered behind', async () => {
    const source = new MemorySource()
    const { stream } = open({ source, maxBuffered: 3 })

    const pending = next(stream)
    source.append(makeStored(1))
    expect((await pending).id).toBe(cursorOf(1))
    // the consumer does not read while five more arrive
    source.append(...[2, 3, 4, 5, 6].map(n => makeStored(n)))

    const overflow = await next(stream)
    expect(overflow.event).toBe('overflow')
    expect(overflow.id).toBeUndefined()
    expect(JSON.parse(overflow.data ?? '')).toMatchObject({ lastEventId: cursorOf(1) })
    expect((await stream.next()).done).toBe(true)
    expect(source.listenerCount()).toBe(0)

    const again = open({ source, after: cursorOf(1), maxBuffered: 3 })
    expect(await takeIds(again.stream, 5)).toEqual(range(2, 6))
  })

  it('sends heartbeats when idle and ends on abort', async () => {
    const source = new MemorySource()
    const { stream, controller } = open({ source, heartbeatMs: 20 })

    expect(await stream.next()).toEqual({ done: false, value: HEARTBEAT_FRAME })
    source.append(makeStored(1))
    expect(await takeIds(stream, 1)).toEqual([cursorOf(1)])
    expect((await next(stream)).comment).toBe('ping')

    const pending = stream.next()
    controller.abort()
    expect((await pending).done).toBe(true)
    expect(source.listenerCount()).toBe(0)
  })

  it('filters replay and live records alike', async () => {
    const source = new MemorySource()
    const only = (s: StoredEvent): boolean => s.event.eventClass === 'artifact.published'
    source.append(makeStored(1), makeStored(2, { eventClass: 'artifact.published' }), makeStored(3))
    const { stream } = open({ source, filter: only })
    expect(await takeIds(stream, 1)).toEqual([cursorOf(2)])
    source.append(makeStored(4), makeStored(5, { eventClass: 'artifact.published' }))
    expect(await takeIds(stream, 1)).toEqual([cursorOf(5)])
  })
})

describe('openEventStream with last (tail -n)', () => {
  /** records 1..n with the store's cursors (base36 arrival counters); every third an artifact */
  function storeLike (n: number): { source: EventStreamOptions['source'], lastCursor: () => string | undefined } {
    const events = Array.from({ length: n }, (_, i) => ({ ...makeStored(i + 1, { eventClass: i % 3 === 0 ? 'artifact.published' : 'pipelinerun.finished' }), cursor: (i + 1).toString(36) }))
    return {
      source: {
        readAfter: async (cursor, limit) => {
          const after = cursor === undefined ? 0 : parseInt(cursor, 36)
          return events.filter(e => parseInt(e.cursor, 36) > after).slice(0, limit)
        },
        onStored: () => () => {}
      },
      lastCursor: () => events.at(-1)?.cursor
    }
  }
  const artifacts = (s: StoredEvent): boolean => s.event.eventClass === 'artifact.published'

  it('starts with the last N matching records, looking back across read windows, after an id-only frame', async () => {
    const { source, lastCursor } = storeLike(1200)
    const { stream } = open({ source, filter: artifacts, last: { count: 5, lastCursor } })
    // matches are 1, 4, …, 1198: the last five start at 1186, so the stream starts after 1185
    expect(await next(stream)).toEqual({ id: (1185).toString(36) })
    expect(await takeIds(stream, 5)).toEqual([1186, 1189, 1192, 1195, 1198].map(c => c.toString(36)))
  })

  it('last 0 starts at the end; more than there are starts at the beginning; a resume ignores last', async () => {
    const { source, lastCursor } = storeLike(10)
    expect(await next(open({ source, last: { count: 0, lastCursor } }).stream)).toEqual({ id: 'a' })
    const all = open({ source, filter: artifacts, last: { count: 50, lastCursor } }).stream
    expect(await next(all)).toEqual({ id: '0' })
    expect(await takeIds(all, 4)).toEqual(['1', '4', '7', 'a'])
    const resumed = open({ source, filter: artifacts, after: '4', last: { count: 0, lastCursor } }).stream
    expect(await takeIds(resumed, 2)).toEqual(['7', 'a'])
  })
})
