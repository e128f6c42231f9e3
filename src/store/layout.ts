import { Level } from 'level'
import { CorruptRecordError, StoreError, asStoreError, levelCall } from './errors.js'
import { counterFromKey, hourKey } from './keys.js'
import { decodeFacts } from './record.js'
import { decodeHourSpan, encodeHourSpan, noteArrival } from './arrival-summary.js'
import { addTraceIndex } from './trace-index.js'
import { HeldIdFilter } from './held-ids.js'
import type { ArrivalSummary } from './arrival-summary.js'
import type { SequenceState } from './types.js'
import type { StoreStats } from '../contracts/state-section.js'
import type { AbstractSublevel } from 'abstract-level'
import type { Logger } from 'pino'

/**
 * The store's on-disk layout (one LevelDB, one sublevel per concern), and opening it: recovery
 * of the in-memory state from the last committed batch, and the migration of older formats.
 * Every other part of the store works on the OpenState this returns.
 */

/** LevelDB block cache: index pages of a million-event store stay hot. */
export const DEFAULT_CACHE_SIZE = 32 * 1024 * 1024
/** Larger memtable than LevelDB's 4 MiB: fewer compactions during gossip bursts and sync. */
export const DEFAULT_WRITE_BUFFER_SIZE = 16 * 1024 * 1024
/** Keys per `nextv` while scanning; large enough to amortise the native call, small enough to stop early. */
export const SCAN_CHUNK = 256

/**
 * 4 added the trace indexes (trace-index.ts); 3 added the arrival summary; 2 had an earlier form
 * of it that kept only first arrivals. An older store gets what it lacks built when opened.
 */
const STORE_FORMAT = 4
/** Arrival entries read at once while building the arrival summary of an older store. */
const MIGRATION_CHUNK = 1000

export type Root = Level<string, string>
export type Sub<V> = AbstractSublevel<Root, string | Buffer | Uint8Array, string, V>

export interface Totals { events: number, bytes: number }

export type { StoreStats }

/** Everything that exists only while the store is open; dropped as a whole by stop(). */
export interface OpenState {
  db: Root
  /** digest → encoded record */
  records: Sub<Uint8Array>
  /** cursor key → facts JSON; the arrival order */
  arrival: Sub<string>
  /** (source, id) → digest */
  bySourceId: Sub<string>
  /** the (source, id) keys `bySourceId` may hold, in memory (held-ids.ts) */
  heldIds: HeldIdFilter
  /** (origin, class, sequence) → digest */
  bySequence: Sub<string>
  /** (origin, class) → SequenceState */
  sequenceStates: Sub<SequenceState>
  /** (value, cursor) → '' */
  byType: Sub<string>
  byClass: Sub<string>
  bySourcePrefix: Sub<string>
  bySubject: Sub<string>
  byChain: Sub<string>
  byOrigin: Sub<string>
  /** (origin, class, cursor) → ''; what a subscription replay for some origins and classes asks */
  byOriginClass: Sub<string>
  /** untrusted records only: they are the rare case worth an index */
  untrusted: Sub<string>
  /** (event time, cursor) → '' */
  byTime: Sub<string>
  /** the arrival summary, persisted: hour of event time → `first:last` arrival counters */
  hourSpans: Sub<string>
  /** (trace identity, cursor) → ''; (referenced trace key, cursor) → how (trace-index.ts) */
  traceIds: Sub<string>
  traceRefs: Sub<string>
  meta: Sub<unknown>
  sections: Map<string, Sub<unknown>>
  counter: number
  lastReceivedMs: number
  /** the arrival summary (arrival-summary.ts), as persisted in `hourSpans` */
  arrivalByHour: ArrivalSummary
  totals: Totals
  /** sequenceStateKey → state; the publish path reads highest sequences from here */
  sequences: Map<string, SequenceState>
}

/**
 * How each part of the store reaches the open state: the state, or NotStartedError while the
 * store is not started. Parts call it after checking their arguments, so a bad argument is
 * reported as such whatever the store's state.
 */
export type Opened = () => OpenState

export interface LayoutOptions {
  cacheSize: number
  writeBufferSize: number
}

export function noop (): void {}

/** Opens (creating when missing) the LevelDB at `path` and recovers the store's state from it. */
export async function openLayout (path: string, options: LayoutOptions, log: Logger | undefined): Promise<OpenState> {
  const db: Root = new Level<string, string>(path, {
    keyEncoding: 'utf8',
    valueEncoding: 'utf8',
    cacheSize: options.cacheSize,
    writeBufferSize: options.writeBufferSize
  })
  try {
    await db.open({ createIfMissing: true })
  } catch (err) {
    throw new StoreError('open', err)
  }
  try {
    const index = (name: string): Sub<string> => db.sublevel<string, string>(name, { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const st: OpenState = {
      db,
      records: db.sublevel<string, Uint8Array>('rec', { keyEncoding: 'utf8', valueEncoding: 'view' }),
      arrival: index('arr'),
      bySourceId: index('sid'),
      heldIds: new HeldIdFilter(),
      bySequence: index('seq'),
      sequenceStates: db.sublevel<string, SequenceState>('seqstate', { keyEncoding: 'utf8', valueEncoding: 'json' }),
      byType: index('type'),
      byClass: index('class'),
      bySourcePrefix: index('source'),
      bySubject: index('subject'),
      byChain: index('chain'),
      byOrigin: index('origin'),
      byOriginClass: index('origin-class'),
      untrusted: index('untrusted'),
      byTime: index('time'),
      hourSpans: index('hour-span'),
      traceIds: index('trace-id'),
      traceRefs: index('trace-ref'),
      meta: db.sublevel<string, unknown>('meta', { keyEncoding: 'utf8', valueEncoding: 'json' }),
      sections: new Map(),
      counter: 0,
      lastReceivedMs: 0,
      arrivalByHour: new Map(),
      totals: { events: 0, bytes: 0 },
      sequences: new Map()
    }
    await recover(st, log)
    st.heldIds.startScan(st.bySourceId, st.totals.events, log)
    return st
  } catch (err) {
    await db.close().catch(noop)
    throw asStoreError('open', err)
  }
}

/**
 * Record count (kept in the same batch as the records) and the on-disk size LevelDB estimates;
 * while LevelDB cannot tell yet (data still in its memtable), the bytes of the records stored.
 */
export async function storeStats (st: OpenState): Promise<StoreStats> {
  let approximateBytes = 0
  const sized = st.db as unknown as { approximateSize?: (start: string, end: string) => Promise<number> }
  if (typeof sized.approximateSize === 'function') {
    approximateBytes = await levelCall('stats', async () => (sized.approximateSize as (s: string, e: string) => Promise<number>).call(st.db, '\x00', '\xff'))
  }
  return { events: st.totals.events, approximateBytes: Math.max(approximateBytes, st.totals.bytes) }
}

/** Rebuilds the in-memory counters from what the last committed batches wrote. */
async function recover (st: OpenState, log: Logger | undefined): Promise<void> {
  const format = await st.meta.get('format')
  const [lastArrival] = await st.arrival.keys({ reverse: true, limit: 1 }).all()
  if (format === undefined) {
    if (lastArrival !== undefined) throw new CorruptRecordError('meta/format', 'records present without a format marker')
    await st.meta.put('format', STORE_FORMAT)
  } else if (format === 1 || format === 2 || format === 3) {
    if (format !== 3) await addArrivalSummary(st, log)
    await addTraceIndex(st, log)
    await st.meta.put('format', STORE_FORMAT)
  } else if (format !== STORE_FORMAT) {
    throw new CorruptRecordError('meta/format', `unsupported store format ${String(format)}`)
  }
  for await (const [key, value] of st.hourSpans.iterator()) {
    const span = decodeHourSpan(value)
    if (!/^[0-9]+$/.test(key) || span === undefined) throw new CorruptRecordError(`hour-span/${key}`, 'wrong shape')
    st.arrivalByHour.set(Number(key), span)
  }
  st.counter = lastArrival === undefined ? 0 : counterFromKey(lastArrival)
  if (lastArrival !== undefined) {
    const value = await st.arrival.get(lastArrival)
    if (value === undefined) throw new CorruptRecordError(lastArrival, 'arrival entry vanished')
    st.lastReceivedMs = decodeFacts(lastArrival, value).receivedAt
  }
  const totals = await st.meta.get('totals')
  if (totals !== undefined) {
    if (!isTotals(totals)) throw new CorruptRecordError('meta/totals', 'wrong shape')
    st.totals = totals
  }
  for await (const [key, state] of st.sequenceStates.iterator()) {
    if (!isSequenceState(state)) throw new CorruptRecordError(`seqstate/${key}`, 'wrong shape')
    st.sequences.set(key, state)
  }
  log?.debug({ events: st.totals.events, cursor: st.counter, sequences: st.sequences.size }, 'event store opened')
}

/**
 * Builds the arrival summary of an older store (format 1, or 2) from its arrival entries, which
 * hold each record's event time. Idempotent: interrupted, it runs again from the start at the
 * next open, as the format marker moves on only after it.
 */
async function addArrivalSummary (st: OpenState, log: Logger | undefined): Promise<void> {
  log?.info(`event store: building the arrival summary (store format ${STORE_FORMAT})`)
  const spans: ArrivalSummary = new Map()
  const none: ArrivalSummary = new Map()
  const it = st.arrival.iterator()
  try {
    for (;;) {
      const entries = await it.nextv(MIGRATION_CHUNK)
      if (entries.length === 0) break
      for (const [key, value] of entries) {
        const time = decodeFacts(key, value).time
        if (time !== undefined) noteArrival(spans, none, time, counterFromKey(key))
      }
    }
  } finally {
    await it.close().catch(noop)
  }
  // format 2 kept first arrivals under another name
  await st.db.sublevel('hour-first').clear()
  await st.hourSpans.batch([...spans].map(([hour, span]) => ({ type: 'put' as const, key: hourKey(hour), value: encodeHourSpan(span) })))
  log?.info({ hours: spans.size }, 'event store: arrival summary built')
}

function isTotals (value: unknown): value is Totals {
  const v = value as Partial<Totals> | null
  return typeof v === 'object' && v !== null && Number.isSafeInteger(v.events) && Number.isSafeInteger(v.bytes)
}

function isSequenceState (value: unknown): value is SequenceState {
  const v = value as Partial<SequenceState> | null
  return typeof v === 'object' && v !== null && typeof v.origin === 'string' && typeof v.eventClass === 'string' &&
    Number.isSafeInteger(v.highest) && Number.isSafeInteger(v.contiguous)
}
