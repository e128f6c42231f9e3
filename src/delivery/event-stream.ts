import type { StoredEvent } from '../events/records.js'
import { eventViewJson } from '../events/event-view.js'
import { decodeCursor, encodeCursor } from '../events/cursor.js'
import type { EventStreamSource } from './types.js'
import { Wakeup } from './wakeup.js'

/** @default 100 — records per replay read */
export const DEFAULT_STREAM_PAGE_SIZE = 100
/**
 * Cursors the replay passed that a late onStored call may still announce (a record can be readable
 * a moment before its listeners run). The window is a few records; this is ample.
 */
const REPLAYED_CURSORS_KEPT = 1024

export const HEARTBEAT_FRAME = ': ping\n\n'

export interface EventStreamOptions {
  source: EventStreamSource
  /** resume strictly after this cursor (the client's Last-Event-ID); from the first record when absent */
  after?: string
  /** which records the client wants */
  filter: (stored: StoredEvent) => boolean
  /**
   * live records waiting for a slow consumer before the stream ends with an `overflow` frame
   * (the client reconnects with its last id and catches up from the store)
   */
  maxBuffered: number
  /** send a `: ping` comment after this long without a frame, so proxies keep the stream open */
  heartbeatMs: number
  /** ends the stream (client gone, server closing) */
  signal: AbortSignal
  /** @default DEFAULT_STREAM_PAGE_SIZE */
  pageSize?: number
  /**
   * Without `after`: start with the last `count` matching records already stored (0: only records
   * stored from now on), like `tail -n`. The stream then opens with an id-only frame naming where
   * it starts, so a client that reconnects before any event resumes there and misses nothing.
   */
  last?: { count: number, lastCursor: () => string | undefined }
}

/** Records read per step when looking back for the last N matches (the store's page cap is 1000). */
const LOOK_BACK_WINDOW = 500
/**
 * Records examined looking back for the last N matches: a rare filter on a big store shows fewer
 * than N rather than scanning everything before the first event is sent.
 */
export const MAX_LOOK_BACK_RECORDS = 100_000

/**
 * The cursor after which the last `count` records matching `filter` begin: walks back from the
 * end in windows (arrival counters are the cursors' content, see store/keys), bounded by
 * MAX_LOOK_BACK_RECORDS.
 */
async function startOfLast (source: EventStreamSource, filter: (stored: StoredEvent) => boolean, count: number, lastCursor: string | undefined): Promise<string> {
  const end = lastCursor === undefined ? 0 : decodeCursor(lastCursor)
  if (count === 0 || end === 0) return encodeCursor(end)
  const found: number[] = []
  let hi = end
  while (hi > 0 && end - hi < MAX_LOOK_BACK_RECORDS) {
    const lo = Math.max(0, hi - LOOK_BACK_WINDOW)
    const page = await source.readAfter(encodeCursor(lo), hi - lo)
    const matches = page.filter(filter).map(stored => decodeCursor(stored.cursor)).filter(counter => counter <= hi)
    found.unshift(...matches)
    if (found.length >= count) return encodeCursor((found[found.length - count] as number) - 1)
    hi = lo
  }
  return encodeCursor(hi)
}

const LINE_SAFE = /^[^\r\n\0]*$/

/** `id: <cursor>`, `event: cdevent`, and the view as one JSON line. */
export function formatEventFrame (stored: StoredEvent): string {
  if (!LINE_SAFE.test(stored.cursor)) throw new Error('cursor is not usable as an SSE id')
  // eventViewJson is always one line, so the data is a single SSE line
  return `id: ${stored.cursor}\nevent: cdevent\ndata: ${eventViewJson(stored)}\n\n`
}

/** The last frame of a stream whose consumer fell `maxBuffered` records behind. No `id`, so the client keeps its last one. */
export function formatOverflowFrame (lastEventId: string | undefined): string {
  const data: { reason: string, lastEventId?: string } = { reason: 'consumer too slow; reconnect with Last-Event-ID' }
  if (lastEventId !== undefined) data.lastEventId = lastEventId
  return `event: overflow\ndata: ${JSON.stringify(data)}\n\n`
}

/**
 * An SSE stream of stored records: first the records after `after` from the store (paged), then
 * live ones, with no gap and no duplicate in between.
 *
 * The listener is attached before the first store read. While replaying, it buffers the matching
 * records announced since the first announcement it saw; when the replay reaches that record (or
 * runs dry) the buffer takes over. If the buffer outgrows `maxBuffered` during the replay it is
 * simply dropped and started afresh, because the store still has those records and the replay
 * will read them. Once live, a consumer that falls `maxBuffered` behind gets an `overflow` frame
 * and the stream ends: memory stays bounded and the client resumes from its last id.
 *
 * The body runs on the first next(); abort `signal` or return() the iterator to end it.
 */
export async function * openEventStream (options: EventStreamOptions): AsyncGenerator<string, void, undefined> {
  const { source, filter, signal, maxBuffered, heartbeatMs } = options
  const pageSize = options.pageSize ?? DEFAULT_STREAM_PAGE_SIZE
  if (!Number.isInteger(maxBuffered) || maxBuffered < 1) throw new RangeError('maxBuffered must be a positive integer')
  if (!Number.isFinite(heartbeatMs) || heartbeatMs <= 0) throw new RangeError('heartbeatMs must be positive')
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer')
  if (signal.aborted) return

  const wakeup = new Wakeup()
  const replayed = new Set<string>()
  let live: StoredEvent[] = []
  /** cursor of the first record announced since the buffer was (re)started; replay stops there */
  let firstLive: string | undefined
  let phase: 'replay' | 'live' = 'replay'
  let overflowed = false
  /** bumped each time the replay-phase buffer is dropped */
  let resets = 0
  let failure: { error: unknown } | undefined

  const remember = (cursor: string): void => {
    replayed.add(cursor)
    if (replayed.size > REPLAYED_CURSORS_KEPT) {
      const oldest = replayed.values().next()
      if (oldest.done !== true) replayed.delete(oldest.value)
    }
  }

  const unsubscribe = source.onStored(stored => {
    if (overflowed || failure !== undefined) return
    // announced after the replay already sent (or skipped) it
    if (replayed.has(stored.cursor)) return
    let wanted: boolean
    try {
      wanted = filter(stored)
    } catch (error) {
      failure = { error }
      wakeup.notify()
      return
    }
    if (phase === 'replay') {
      firstLive ??= stored.cursor
      if (!wanted) return
      live.push(stored)
      if (live.length > maxBuffered) {
        live = []
        firstLive = undefined
        resets++
      }
      return
    }
    if (!wanted) return
    live.push(stored)
    if (live.length > maxBuffered) {
      overflowed = true
      live = []
    }
    wakeup.notify()
  })

  try {
    let lastYield = Date.now()
    let lastEventId = options.after
    let cursor = options.after
    if (options.after === undefined && options.last !== undefined) {
      cursor = await startOfLast(source, filter, options.last.count, options.last.lastCursor())
      lastEventId = cursor
      if (signal.aborted) return
      yield `id: ${cursor}\n\n`
    }

    replay: while (true) {
      const epoch = resets
      const page = await source.readAfter(cursor, pageSize)
      if (signal.aborted) return
      for (const stored of page) {
        if (failure !== undefined) throw failure.error
        if (stored.cursor === firstLive) break replay
        remember(stored.cursor)
        cursor = stored.cursor
        if (filter(stored)) {
          yield formatEventFrame(stored)
          lastEventId = stored.cursor
          lastYield = Date.now()
        } else if (Date.now() - lastYield >= heartbeatMs) {
          yield HEARTBEAT_FRAME
          lastYield = Date.now()
        }
        if (signal.aborted) return
      }
      // A short page means the store had nothing more when read; later records reach the listener,
      // unless the buffer was dropped since: then the store is the only place left to read them.
      if (page.length < pageSize && resets === epoch) break
    }

    phase = 'live'
    while (!signal.aborted) {
      wakeup.clear()
      if (failure !== undefined) throw failure.error
      if (overflowed) {
        yield formatOverflowFrame(lastEventId)
        return
      }
      const next = live.shift()
      if (next !== undefined) {
        yield formatEventFrame(next)
        lastEventId = next.cursor
        lastYield = Date.now()
        continue
      }
      const idle = Date.now() - lastYield
      if (idle >= heartbeatMs) {
        yield HEARTBEAT_FRAME
        lastYield = Date.now()
        continue
      }
      await wakeup.wait(signal, heartbeatMs - idle)
    }
  } finally {
    unsubscribe()
  }
}
