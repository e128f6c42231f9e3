import { Level } from 'level'
import { InvalidRequestError, NotStartedError, isCdgossipError } from '../errors.js'
import { ConflictingEventError, CorruptRecordError, StoreError, UnstorableEventError } from './errors.js'
import {
  KEY_SEPARATOR, KEY_UPPER, counterFromKey, cursorKey, decodeCursor, encodeCursor, indexedSourcePrefix, originClassPrefix,
  parseInstant, prefixEnd, sequenceFromKey, sequenceKey, sequencePrefix, sequenceStateKey, sourceIdKey, sourcePrefixes,
  hourKey, summaryHour, timeKey, valuePart, valuePrefix
} from './keys.js'
import { takeGroup } from './take-group.js'
import { decodeFacts, decodeStoredRecord, encodeFacts, encodeStoredValue, factsOf, wireBytesOf } from './record.js'
import type { RecordFacts } from './record.js'
import type { AppendOutcome, EventPage, EventQuery, SequenceState, StateSection, StoredEvent } from './types.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import type { AbstractSublevel } from 'abstract-level'
import type { Logger } from 'pino'

/** Largest page `query` and `readAfter` return, whatever the caller asks for. */
export const MAX_PAGE_SIZE = 1000
/** Page size when the query names none. */
export const DEFAULT_PAGE_SIZE = 100
/**
 * How many index entries one `query` call examines when criteria must be checked beyond the
 * chosen index. Past it the call returns what it found with `next` set to the last examined
 * position, so a sparse query costs the client more round trips instead of costing the node an
 * unbounded scan. Measured: 2,000 candidates cost ~5 ms of CPU (index keys, their arrival facts,
 * the filter), which keeps a sparse call within the 20 ms p99 target.
 */
export const DEFAULT_MAX_SCAN = 2000
/**
 * A since/until query first collects the event-time index range; when the range holds at most
 * this many entries the page is exact and cheap, else it falls back to an arrival-ordered scan
 * bounded to where the arrival summary says records of the window can be.
 */
export const DEFAULT_TIME_RANGE_COLLECT = 2000
/** LevelDB block cache: index pages of a million-event store stay hot. */
export const DEFAULT_CACHE_SIZE = 32 * 1024 * 1024
/** Larger memtable than LevelDB's 4 MiB: fewer compactions during gossip bursts and sync. */
export const DEFAULT_WRITE_BUFFER_SIZE = 16 * 1024 * 1024
/** Most records one `appendBatch` takes (a batch is one LevelDB write held in memory). */
export const MAX_APPEND_BATCH = 10_000
/** Most gaps `missingSequences` reports per call. */
export const MAX_MISSING_SEQUENCES = 10_000
/** Longest string filter value a query accepts. */
export const MAX_FILTER_LENGTH = 2048
/** Most event classes one `sequenceStates` call may name. */
export const MAX_SEQUENCE_STATE_CLASSES = 4096
/** Longest key of a state section entry. */
export const MAX_SECTION_KEY_LENGTH = 1024

/**
 * 3 added the arrival summary (format 2, on main for one commit, kept only first arrivals). An
 * older store gets the summary built from its arrival entries when opened.
 */
const STORE_FORMAT = 3
/** Arrival entries read at once while building the arrival summary of an older store. */
const MIGRATION_CHUNK = 1000
const DIGEST_RE = /^[0-9a-f]{64}$/
const SECTION_NAME_RE = /^[a-z](?:[a-z-]{0,62}[a-z])?$/
/** Keys per `nextv` while scanning; large enough to amortise the native call, small enough to stop early. */
const SCAN_CHUNK = 256

export interface EventStoreComponents {
  log?: Logger
}

export interface EventStoreInit {
  /** LevelDB directory */
  path: string
  /** @default DEFAULT_MAX_SCAN */
  maxScan?: number
  /** @default DEFAULT_TIME_RANGE_COLLECT */
  timeRangeCollect?: number
  /** @default DEFAULT_CACHE_SIZE */
  cacheSize?: number
  /** @default DEFAULT_WRITE_BUFFER_SIZE */
  writeBufferSize?: number
}

export interface StoreStats {
  events: number
  approximateBytes: number
}

type Root = Level<string, string>
type Sub<V> = AbstractSublevel<Root, string | Buffer | Uint8Array, string, V>

interface Totals { events: number, bytes: number }

/** One write of the per-record batch; each sublevel encodes its own value. */
interface PutOp {
  type: 'put'
  // abstract-level types a batch's sublevel option with `any` encodings: values differ per sublevel
  sublevel: AbstractSublevel<Root, any, any, any>
  key: string
  value: unknown
}

/** Everything that exists only while the store is open; dropped as a whole by stop(). */
interface OpenState {
  db: Root
  /** digest → encoded record */
  records: Sub<Uint8Array>
  /** cursor key → facts JSON; the arrival order */
  arrival: Sub<string>
  /** (source, id) → digest */
  bySourceId: Sub<string>
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
  meta: Sub<unknown>
  sections: Map<string, Sub<unknown>>
  counter: number
  lastReceivedMs: number
  /**
   * The arrival summary: for each hour of event time (summaryHour), the arrival counters of the
   * first and the last record stored with a time in it. No record with an event time at or after
   * `since` arrived before the smallest `first` of the hours from since's on, and none at or
   * before `until` after the largest `last` up to until's hour, so a since/until scan in arrival
   * order runs between those two instead of over the whole store. One entry per hour (a year of
   * history is ~8,800; whatever times events claim, at most the ~1.1M hours of 1970-2100),
   * rewritten once per write that touches the hour.
   */
  arrivalByHour: Map<number, HourSpan>
  totals: Totals
  /** sequenceStateKey → state; the publish path reads highest sequences from here */
  sequences: Map<string, SequenceState>
}

type Status =
  | { state: 'stopped' }
  | { state: 'starting', done: Promise<void> }
  | { state: 'started', open: OpenState }
  | { state: 'stopping', done: Promise<void> }

/** One query after validation. */
interface QueryFilter {
  typeExact?: string
  eventClass?: string
  /** `artifact.` for the pattern `artifact.*`: classes of one subject (no index; post-filtered) */
  classPrefix?: string
  source?: string
  subject?: string
  chainId?: string
  origin?: string
  sinceMs?: number
  untilMs?: number
  trusted?: boolean
}

type Candidate = [counter: number, facts: RecordFacts]

interface Pending {
  event: SignedEvent
  trusted: boolean
  counter: number
  /** what the call is told; `highestBefore` is filled in once the write's order is final */
  outcome: Extract<AppendOutcome, { status: 'stored' }>
}

interface StoreItem { event: SignedEvent, trusted: boolean }

/** An appendBatch call waiting for the next group commit. */
interface QueuedWrite {
  items: StoreItem[]
  resolve: (outcomes: AppendOutcome[]) => void
  reject: (err: unknown) => void
}

function noop (): void {}

/**
 * The local event log: signed records by digest, unique (source, id) and (origin, class, sequence),
 * arrival order and query indexes, each record with all its entries written in one LevelDB batch.
 * Writes are serialised so uniqueness checks and the batch are atomic with respect to each other;
 * reads run concurrently against committed data.
 */
export class EventStore {
  private readonly log: Logger | undefined
  private readonly path: string
  private readonly maxScan: number
  private readonly timeRangeCollect: number
  private readonly cacheSize: number
  private readonly writeBufferSize: number
  private status: Status = { state: 'stopped' }
  private writeTail: Promise<void> = Promise.resolve()
  private readonly queuedWrites: QueuedWrite[] = []
  private flushScheduled = false

  constructor (components: EventStoreComponents, init: EventStoreInit) {
    if (typeof init.path !== 'string' || init.path === '') throw new Error('EventStore needs a path')
    this.log = components.log
    this.path = init.path
    this.maxScan = positiveInt(init.maxScan, DEFAULT_MAX_SCAN)
    this.timeRangeCollect = positiveInt(init.timeRangeCollect, DEFAULT_TIME_RANGE_COLLECT)
    this.cacheSize = positiveInt(init.cacheSize, DEFAULT_CACHE_SIZE)
    this.writeBufferSize = positiveInt(init.writeBufferSize, DEFAULT_WRITE_BUFFER_SIZE)
  }

  isStarted (): boolean {
    return this.status.state === 'started'
  }

  async start (): Promise<void> {
    const status = this.status
    if (status.state === 'started') return
    if (status.state === 'starting') return status.done
    if (status.state === 'stopping') await status.done
    const done = this.open().then((open) => {
      this.status = { state: 'started', open }
    }, (err: unknown) => {
      this.status = { state: 'stopped' }
      throw err
    })
    this.status = { state: 'starting', done }
    return done
  }

  async stop (): Promise<void> {
    const status = this.status
    if (status.state === 'stopped') return
    if (status.state === 'stopping') return status.done
    if (status.state === 'starting') {
      await status.done.catch(noop)
      return this.stop()
    }
    const done = (async () => {
      // Let writes already queued finish (each batch is all written or not at all); a flush can
      // queue the next one, so wait until the tail stops moving.
      let tail: Promise<void>
      do {
        tail = this.writeTail
        await tail
      } while (tail !== this.writeTail)
      try {
        await status.open.db.close()
      } catch (err) {
        throw new StoreError('close', err)
      } finally {
        this.status = { state: 'stopped' }
      }
    })()
    this.status = { state: 'stopping', done }
    return done
  }

  // ---------------------------------------------------------------- writes

  /** Stores one verified record, or reports the identical record already held. */
  async append (event: SignedEvent, meta: { trusted: boolean }): Promise<AppendOutcome> {
    const [outcome] = await this.appendBatch([{ event, trusted: meta.trusted }])
    if (outcome === undefined) throw new Error('appendBatch returned no outcome')
    return outcome
  }

  /**
   * Stores several records atomically: all or nothing. A conflict with the store or an earlier
   * item refuses the whole batch; an item whose digest is already held (or repeated in the
   * batch) is a `duplicate` that points at the record first stored.
   *
   * Calls that arrive while a write is in progress are committed together in the next LevelDB
   * write (group commit), each call still all-or-nothing on its own: a burst of gossip or a sync
   * page costs one disk write instead of one per record.
   */
  async appendBatch (items: Array<{ event: SignedEvent, trusted: boolean }>): Promise<AppendOutcome[]> {
    if (!Array.isArray(items)) throw new InvalidRequestError('appendBatch needs an array')
    if (items.length > MAX_APPEND_BATCH) {
      throw new InvalidRequestError(`at most ${MAX_APPEND_BATCH} records per batch`, { items: items.length })
    }
    if (items.length === 0) return []
    for (const item of items) checkStorable(item.event)
    // Captured now: a write queued before stop() began still completes, stop() waits for it.
    const st = this.require()
    return await new Promise<AppendOutcome[]>((resolve, reject) => {
      this.queuedWrites.push({ items, resolve, reject })
      if (!this.flushScheduled) this.scheduleFlush(st)
    })
  }

  private scheduleFlush (st: OpenState): void {
    this.flushScheduled = true
    void this.exclusive(async () => { await this.flushQueuedWrites(st) })
  }

  /** Commits the queued calls (up to MAX_APPEND_BATCH records) in one write; runs under the lock. */
  private async flushQueuedWrites (st: OpenState): Promise<void> {
    this.flushScheduled = false
    const writes = takeGroup(this.queuedWrites, MAX_APPEND_BATCH, (write) => write.items.length)
    if (this.queuedWrites.length > 0) this.scheduleFlush(st)
    try {
      const results = await this.appendLocked(st, writes.map((w) => w.items))
      results.forEach((result, i) => {
        const write = writes[i] as QueuedWrite
        if (result instanceof ConflictingEventError) write.reject(result)
        else write.resolve(result)
      })
    } catch (err) {
      for (const write of writes) write.reject(err)
    }
  }

  /**
   * One LevelDB write for several calls. Each call is checked against the store and against the
   * calls before it in this write; a conflicting call is left out (its result is the error) and
   * the others go ahead.
   */
  private async appendLocked (st: OpenState, calls: StoreItem[][]): Promise<Array<AppendOutcome[] | ConflictingEventError>> {
    const items = calls.flat()
    const digests = items.map((item) => item.event.digest)
    const sidKeys = items.map((item) => sourceIdKey(item.event.cdevent.context.source, item.event.cdevent.context.id))
    const seqKeys = items.map((item) => sequencePrefix(item.event.origin, item.event.eventClass) + sequenceKey(item.event.sequence))
    // (source, id) comes from the same bytes as the digest, so its entry also answers "held?":
    // this digest means a duplicate, another digest a conflict. One read on the common path.
    const sidHeld = await read('read', async () => st.bySourceId.getMany(sidKeys))
    // A sequence entry can only exist at or below the highest sequence held for its (origin, class).
    const seqHeld = new Map<string, string>()
    const seqToCheck = items.flatMap(({ event }, i) =>
      sidHeld[i] === undefined && event.sequence <= (st.sequences.get(sequenceStateKey(event.origin, event.eventClass))?.highest ?? 0)
        ? [seqKeys[i] as string]
        : [])
    if (seqToCheck.length > 0) {
      const values = await read('read', async () => st.bySequence.getMany(seqToCheck))
      values.forEach((digest, n) => { if (digest !== undefined) seqHeld.set(seqToCheck[n] as string, digest) })
    }

    const outcomes: Array<AppendOutcome | undefined> = new Array(items.length)
    /** per call: the conflict that left it out of this write, undefined when it goes in */
    const conflicts: Array<ConflictingEventError | undefined> = []
    const pendingByDigest = new Map<string, Pending>()
    const pendingSid = new Map<string, string>()
    const pendingSeq = new Map<string, string>()
    const pending: Pending[] = []
    const heldDuplicates: number[] = []
    let counter = st.counter
    const receivedAtMs = Math.max(Date.now(), st.lastReceivedMs)
    const receivedAt = new Date(receivedAtMs).toISOString()

    let i = 0
    for (const call of calls) {
      const first = i
      const callStart = { pending: pending.length, duplicates: heldDuplicates.length, counter }
      const added: Array<[Map<string, unknown>, string]> = []
      let conflict: ConflictingEventError | undefined
      for (const item of call) {
        const at = i++
        if (conflict !== undefined) continue
        const digest = item.event.digest
        if (sidHeld[at] === digest) {
          heldDuplicates.push(at)
          continue
        }
        const earlier = pendingByDigest.get(digest)
        if (earlier !== undefined) {
          outcomes[at] = { status: 'duplicate', stored: earlier.outcome.stored }
          continue
        }
        const sidKey = sidKeys[at] as string
        const existingSid = pendingSid.get(sidKey) ?? sidHeld[at]
        if (existingSid !== undefined && existingSid !== digest) {
          conflict = new ConflictingEventError({ kind: 'source-id', digest, existingDigest: existingSid })
          continue
        }
        const seqKey = seqKeys[at] as string
        const existingSeq = pendingSeq.get(seqKey) ?? seqHeld.get(seqKey)
        if (existingSeq !== undefined && existingSeq !== digest) {
          conflict = new ConflictingEventError({ kind: 'sequence', digest, existingDigest: existingSeq })
          continue
        }
        counter++
        const stored: StoredEvent = { event: item.event, cursor: encodeCursor(counter), receivedAt, trusted: item.trusted === true }
        const entry: Pending = { event: item.event, trusted: stored.trusted, counter, outcome: { status: 'stored', stored, highestBefore: 0 } }
        pendingByDigest.set(digest, entry)
        pendingSid.set(sidKey, digest)
        pendingSeq.set(seqKey, digest)
        added.push([pendingByDigest, digest], [pendingSid, sidKey], [pendingSeq, seqKey])
        pending.push(entry)
        outcomes[at] = entry.outcome
      }
      conflicts.push(conflict)
      if (conflict === undefined) continue
      // leave the whole call out, as if it had come alone and been refused
      for (const [map, key] of added) map.delete(key)
      pending.length = callStart.pending
      heldDuplicates.length = callStart.duplicates
      counter = callStart.counter
      outcomes.fill(undefined, first, i)
    }

    if (heldDuplicates.length > 0) {
      const existing = await this.getMany(st, heldDuplicates.map((at) => digests[at] as string))
      heldDuplicates.forEach((at, n) => {
        const stored = existing[n]
        if (stored === undefined) throw new CorruptRecordError(digests[at] as string, 'record vanished')
        outcomes[at] = { status: 'duplicate', stored }
      })
    }

    if (pending.length > 0) {
      const sequenceUpdates = await this.nextSequenceStates(st, pending)
      // An array batch: measured ~40 % less CPU per record than a chained batch with sublevels.
      const ops: PutOp[] = []
      let bytes = 0
      const highest = new Map<string, number>()
      const touchedHours = new Map<number, HourSpan>()
      for (const entry of pending) {
        bytes += this.putRecord(st, ops, entry, receivedAtMs, touchedHours)
        const key = sequenceStateKey(entry.event.origin, entry.event.eventClass)
        const before = highest.get(key) ?? st.sequences.get(key)?.highest ?? 0
        highest.set(key, Math.max(before, entry.event.sequence))
        entry.outcome.highestBefore = before
      }
      for (const [key, state] of sequenceUpdates) {
        ops.push({ type: 'put', sublevel: st.sequenceStates, key, value: state })
      }
      for (const [hour, span] of touchedHours) {
        ops.push({ type: 'put', sublevel: st.hourSpans, key: hourKey(hour), value: encodeHourSpan(span) })
      }
      const totals: Totals = { events: st.totals.events + pending.length, bytes: st.totals.bytes + bytes }
      ops.push({ type: 'put', sublevel: st.meta, key: 'totals', value: totals })
      await read('append', async () => st.db.batch<string, unknown>(ops, {}))
      st.totals = totals
      st.counter = counter
      st.lastReceivedMs = receivedAtMs
      for (const [hour, span] of touchedHours) st.arrivalByHour.set(hour, span)
      for (const [key, state] of sequenceUpdates) st.sequences.set(key, state)
    }
    let at = 0
    return calls.map((call, c) => {
      const from = at
      at += call.length
      return conflicts[c] ?? outcomes.slice(from, at) as AppendOutcome[]
    })
  }

  /**
   * Adds one record and its index entries to the batch; returns the record's stored size. Records
   * come in arrival order; the record's hour of event time goes into `touchedHours` with its new
   * span, which the caller writes once per hour.
   */
  private putRecord (st: OpenState, ops: PutOp[], entry: Pending, receivedAtMs: number, touchedHours: Map<number, HourSpan>): number {
    const { event, trusted, counter } = entry
    const facts = factsOf(event, trusted, receivedAtMs)
    const ck = cursorKey(counter)
    const value = encodeStoredValue(event, { counter, receivedAtMs, trusted })
    const context = event.cdevent.context
    const put = <V>(sublevel: Sub<V>, key: string, v: V): void => { ops.push({ type: 'put', sublevel, key, value: v }) }
    const index = (sublevel: Sub<string>, key: string): void => { put(sublevel, key, '') }
    put(st.records, event.digest, value)
    put(st.arrival, ck, encodeFacts(facts))
    put(st.bySourceId, sourceIdKey(context.source, context.id), event.digest)
    put(st.bySequence, sequencePrefix(event.origin, event.eventClass) + sequenceKey(event.sequence), event.digest)
    index(st.byType, valuePrefix(facts.type) + ck)
    index(st.byClass, valuePrefix(facts.eventClass) + ck)
    for (const prefix of sourcePrefixes(facts.source)) index(st.bySourcePrefix, valuePart(prefix) + KEY_SEPARATOR + ck)
    index(st.bySubject, valuePrefix(facts.subject) + ck)
    if (facts.chainId !== undefined) index(st.byChain, valuePrefix(facts.chainId) + ck)
    index(st.byOrigin, valuePrefix(facts.origin) + ck)
    index(st.byOriginClass, originClassPrefix(facts.origin, facts.eventClass) + ck)
    if (!trusted) index(st.untrusted, ck)
    if (facts.time !== undefined) {
      index(st.byTime, timeKey(facts.time) + KEY_SEPARATOR + ck)
      const hour = summaryHour(facts.time)
      const span = touchedHours.get(hour)
      if (span !== undefined) span.last = counter
      else touchedHours.set(hour, { first: st.arrivalByHour.get(hour)?.first ?? counter, last: counter })
    }
    return value.length
  }

  /** New (highest, contiguous) per (origin, class) touched by the pending records. */
  private async nextSequenceStates (st: OpenState, pending: Pending[]): Promise<Map<string, SequenceState>> {
    const touched = new Map<string, { origin: string, eventClass: string, seqs: Set<number> }>()
    for (const { event } of pending) {
      const key = sequenceStateKey(event.origin, event.eventClass)
      let group = touched.get(key)
      if (group === undefined) {
        group = { origin: event.origin, eventClass: event.eventClass, seqs: new Set() }
        touched.set(key, group)
      }
      group.seqs.add(event.sequence)
    }
    const updates = new Map<string, SequenceState>()
    for (const [key, group] of touched) {
      const current = st.sequences.get(key) ?? { origin: group.origin, eventClass: group.eventClass, highest: 0, contiguous: 0 }
      let highest = current.highest
      for (const seq of group.seqs) if (seq > highest) highest = seq
      let contiguous = current.contiguous
      if (current.highest <= contiguous) {
        // Nothing is held past `contiguous`: only this batch can extend it (the publish path).
        while (group.seqs.has(contiguous + 1)) contiguous++
      } else if (group.seqs.has(contiguous + 1)) {
        // The new record closes the gap after `contiguous`: walk forward over what is already held.
        contiguous = await this.extendContiguous(st, group.origin, group.eventClass, contiguous, group.seqs)
      }
      updates.set(key, { origin: group.origin, eventClass: group.eventClass, highest, contiguous })
    }
    return updates
  }

  private async extendContiguous (st: OpenState, origin: string, eventClass: string, from: number, pendingSeqs: Set<number>): Promise<number> {
    const prefix = sequencePrefix(origin, eventClass)
    let contiguous = from
    const it = st.bySequence.keys({ gt: prefix + sequenceKey(from), lt: prefixEnd(prefix) })
    try {
      let held: number[] = []
      let at = 0
      let exhausted = false
      while (true) {
        const want = contiguous + 1
        if (pendingSeqs.has(want)) {
          contiguous = want
          continue
        }
        while (!exhausted) {
          if (at >= held.length) {
            const keys = await it.nextv(SCAN_CHUNK)
            if (keys.length === 0) {
              exhausted = true
              break
            }
            held = keys.map(sequenceFromKey)
            at = 0
          }
          if ((held[at] as number) >= want) break
          at++
        }
        if (!exhausted && held[at] === want) {
          contiguous = want
          at++
          continue
        }
        return contiguous
      }
    } catch (err) {
      throw wrap('read', err)
    } finally {
      await it.close().catch(noop)
    }
  }

  // ---------------------------------------------------------------- point reads

  async get (digest: string): Promise<StoredEvent | undefined> {
    checkDigest(digest)
    const st = this.require()
    const [stored] = await this.getMany(st, [digest])
    return stored
  }

  async has (digest: string): Promise<boolean> {
    checkDigest(digest)
    const st = this.require()
    return read('read', async () => st.records.has(digest))
  }

  async getBySourceAndId (source: string, id: string): Promise<StoredEvent | undefined> {
    checkFilterString(source, 'source')
    checkFilterString(id, 'id')
    const st = this.require()
    const digest = await read('read', async () => st.bySourceId.get(sourceIdKey(source, id)))
    if (digest === undefined) return undefined
    const [stored] = await this.getMany(st, [digest])
    return stored
  }

  private async getMany (st: OpenState, digests: string[]): Promise<Array<StoredEvent | undefined>> {
    if (digests.length === 0) return []
    const values = await read('read', async () => st.records.getMany(digests))
    return values.map((value, i) => value === undefined ? undefined : decodeStoredRecord(digests[i] as string, value))
  }

  // ---------------------------------------------------------------- queries

  /**
   * One page in arrival order, strictly after `cursor`. The most selective index the query allows
   * is scanned as one range ordered by (value, arrival); criteria beyond it are checked against
   * each candidate's facts. Such a post-filtered call examines at most `maxScan` entries: when it
   * stops there it returns fewer (possibly zero) events and a `next` cursor past everything it
   * examined, so the client keeps paging while `next` is set.
   */
  async query (q: EventQuery = {}): Promise<EventPage> {
    const filter = parseQuery(q)
    const limit = clampLimit(q.limit, 'limit')
    const after = q.cursor === undefined ? 0 : decodeCursor(q.cursor)
    const st = this.require()
    if (filter.sinceMs !== undefined && filter.untilMs !== undefined && filter.sinceMs > filter.untilMs) return { events: [] }

    const window = windowArrivals(st, filter)
    // no record has an event time inside the window, or none after the cursor does
    if (window === undefined || (window.last !== undefined && window.last <= after)) return { events: [] }
    const from = window.first === undefined ? after : Math.max(after, window.first - 1)
    const index = chooseIndex(st, filter)
    if ((filter.sinceMs !== undefined || filter.untilMs !== undefined) && !index.selective) {
      const page = await this.queryTimeRange(st, filter, from, limit)
      if (page !== undefined) return page
    }
    return this.scan(st, index.sub, index.prefix, filter, from, limit, this.maxScan, window.last)
  }

  /** Up to `limit` records in arrival order strictly after `cursor` (from the beginning when absent). */
  async readAfter (cursor: string | undefined, limit: number): Promise<StoredEvent[]> {
    const after = cursor === undefined ? 0 : decodeCursor(cursor)
    const n = clampLimit(limit, 'limit')
    const st = this.require()
    const page = await this.scan(st, undefined, '', {}, after, n, Number.POSITIVE_INFINITY)
    return page.events
  }

  /** Cursor of the newest record; undefined while the store is empty. */
  lastCursor (): string | undefined {
    const st = this.require()
    return st.counter === 0 ? undefined : encodeCursor(st.counter)
  }

  /**
   * The position from which `readAfter` yields exactly the records received at or after `iso`:
   * the cursor just before the first such record (`0` when that is the first record), or the
   * last cursor when every record was received earlier (undefined for an empty store).
   */
  async cursorAtTime (iso: string): Promise<string | undefined> {
    const ms = parseInstant(iso, 'time')
    const st = this.require()
    // receivedAt never decreases along the arrival order, so binary search it: ~20 point reads
    // for a million records. `lo` is the first counter that may qualify, `hi` one past the last.
    let lo = 1
    let hi = st.counter + 1
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      const found = await this.firstArrivalFrom(st, mid)
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
  private async firstArrivalFrom (st: OpenState, counter: number): Promise<Candidate | undefined> {
    const entries = await read('read', async () => st.arrival.iterator({ gte: cursorKey(counter), limit: 1 }).all())
    const entry = entries[0]
    return entry === undefined ? undefined : [counterFromKey(entry[0]), decodeFacts(entry[0], entry[1])]
  }

  /**
   * The bounded range scan behind every query: walks `sub` (an index whose keys are
   * `prefix + cursorKey`, or the arrival order itself when `sub` is undefined) from just after
   * `after` to the arrival `upTo` (the end when undefined), checks each candidate against
   * `filter`, and stops at `limit` matches or `maxScan` examined entries.
   */
  private async scan (st: OpenState, sub: Sub<string> | undefined, prefix: string, filter: QueryFilter,
    after: number, limit: number, maxScan: number, upTo?: number): Promise<EventPage> {
    const source = sub ?? st.arrival
    // An empty prefix means the keys are bare cursor keys (arrival, untrusted): no upper bound
    // but `upTo`.
    const lt = upTo !== undefined ? prefix + cursorKey(upTo + 1) : prefix === '' ? undefined : prefixEnd(prefix)
    const it = source.iterator({ gt: prefix + cursorKey(after), ...(lt === undefined ? {} : { lt }), values: sub === undefined })
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
          : await this.factsFor(st, entries.map(([key]) => counterFromKey(key)))
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
      throw wrap('query', err)
    } finally {
      await it.close().catch(noop)
    }
    const events = await this.recordsFor(st, matched)
    const last = matched[matched.length - 1]
    if (matched.length === limit) {
      return more && last !== undefined ? { events, next: encodeCursor(last[0]) } : { events }
    }
    return exhausted ? { events } : { events, next: encodeCursor(lastScanned) }
  }

  /**
   * since/until without a selective index: if the event-time range is small, collect it, sort by
   * arrival and answer exactly; undefined when the range is too large for that.
   */
  private async queryTimeRange (st: OpenState, filter: QueryFilter, after: number, limit: number): Promise<EventPage | undefined> {
    const range: { gte?: string, lt?: string } = {}
    if (filter.sinceMs !== undefined) range.gte = timeKey(filter.sinceMs)
    if (filter.untilMs !== undefined) range.lt = timeKey(filter.untilMs) + KEY_UPPER
    const keys = await read('query', async () => st.byTime.keys({ ...range, limit: this.timeRangeCollect + 1 }).all())
    if (keys.length > this.timeRangeCollect) return undefined
    const counters = keys.map(counterFromKey).filter((c) => c > after).sort((a, b) => a - b)
    const matched: Candidate[] = []
    let more = false
    for (let i = 0; i < counters.length && !more; i += SCAN_CHUNK) {
      const candidates = await this.factsFor(st, counters.slice(i, i + SCAN_CHUNK))
      for (const candidate of candidates) {
        if (!matches(candidate[1], filter)) continue
        if (matched.length === limit) {
          more = true
          break
        }
        matched.push(candidate)
      }
    }
    const events = await this.recordsFor(st, matched)
    const last = matched[matched.length - 1]
    return more && last !== undefined ? { events, next: encodeCursor(last[0]) } : { events }
  }

  private async factsFor (st: OpenState, counters: number[]): Promise<Candidate[]> {
    const keys = counters.map(cursorKey)
    const values = await read('query', async () => st.arrival.getMany(keys))
    return values.map((value, i): Candidate => {
      const key = keys[i] as string
      if (value === undefined) throw new CorruptRecordError(key, 'index entry without arrival entry')
      return [counters[i] as number, decodeFacts(key, value)]
    })
  }

  private async recordsFor (st: OpenState, matched: Candidate[]): Promise<StoredEvent[]> {
    const stored = await this.getMany(st, matched.map(([, facts]) => facts.digest))
    return stored.map((s, i) => {
      if (s === undefined) throw new CorruptRecordError((matched[i] as Candidate)[1].digest, 'indexed record missing')
      return s
    })
  }

  // ---------------------------------------------------------------- sequences

  /** Highest sequence held for (origin, class), 0 when none; served from memory. */
  async highestSequence (origin: string, eventClass: EventClass): Promise<number> {
    const st = this.require()
    return st.sequences.get(sequenceStateKey(origin, eventClass))?.highest ?? 0
  }

  /** What is held per (origin, class), for the given classes or all; served from memory. */
  async sequenceStates (eventClasses?: EventClass[]): Promise<SequenceState[]> {
    if (eventClasses !== undefined) {
      if (!Array.isArray(eventClasses) || eventClasses.length > MAX_SEQUENCE_STATE_CLASSES) {
        throw new InvalidRequestError(`at most ${MAX_SEQUENCE_STATE_CLASSES} event classes`)
      }
    }
    const st = this.require()
    const wanted = eventClasses === undefined ? undefined : new Set(eventClasses)
    const states: SequenceState[] = []
    for (const state of st.sequences.values()) {
      if (wanted === undefined || wanted.has(state.eventClass)) states.push({ ...state })
    }
    return states.sort((a, b) => a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.eventClass < b.eventClass ? -1 : a.eventClass > b.eventClass ? 1 : 0)
  }

  /** Up to `limit` sequence numbers below the highest held that are missing, ascending. */
  async missingSequences (origin: string, eventClass: EventClass, limit: number): Promise<number[]> {
    const max = clampInt(limit, MAX_MISSING_SEQUENCES, 'limit')
    const st = this.require()
    const state = st.sequences.get(sequenceStateKey(origin, eventClass))
    if (state === undefined || state.highest === state.contiguous) return []
    const prefix = sequencePrefix(origin, eventClass)
    const missing: number[] = []
    let expected = state.contiguous + 1
    const it = st.bySequence.keys({ gt: prefix + sequenceKey(state.contiguous), lte: prefix + sequenceKey(state.highest) })
    try {
      while (missing.length < max) {
        const keys = await it.nextv(SCAN_CHUNK)
        if (keys.length === 0) break
        for (const key of keys) {
          const seq = sequenceFromKey(key)
          for (; expected < seq && missing.length < max; expected++) missing.push(expected)
          if (missing.length >= max) break
          expected = seq + 1
        }
      }
    } catch (err) {
      throw wrap('read', err)
    } finally {
      await it.close().catch(noop)
    }
    return missing
  }

  /** Wire bytes of the held records of (origin, class) with from <= sequence <= to, ascending, streamed (what sync serves; nothing is decoded). */
  async * readSequenceRange (origin: string, eventClass: EventClass, from: number, to: number): AsyncGenerator<Uint8Array> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new InvalidRequestError('sequence bounds must be integers')
    const st = this.require()
    const lo = Math.max(from, 1)
    if (to < lo) return
    const prefix = sequencePrefix(origin, eventClass)
    const it = st.bySequence.iterator({ gte: prefix + sequenceKey(lo), lte: prefix + sequenceKey(to) })
    try {
      while (true) {
        let entries: Array<[string, string]>
        try {
          entries = await it.nextv(64)
        } catch (err) {
          throw wrap('read', err)
        }
        if (entries.length === 0) return
        const digests = entries.map(([, digest]) => digest)
        const values = await read('read', async () => st.records.getMany(digests))
        for (let i = 0; i < values.length; i++) {
          const value = values[i]
          const digest = digests[i] as string
          if (value === undefined) throw new CorruptRecordError(digest, 'sequenced record missing')
          yield wireBytesOf(digest, value)
        }
      }
    } finally {
      await it.close().catch(noop)
    }
  }

  // ---------------------------------------------------------------- stats and state sections

  /**
   * Record count (kept in the same batch as the records) and the on-disk size LevelDB estimates;
   * while LevelDB cannot tell yet (data still in its memtable), the bytes of the records stored.
   */
  async stats (): Promise<StoreStats> {
    const st = this.require()
    let approximateBytes = 0
    const sized = st.db as unknown as { approximateSize?: (start: string, end: string) => Promise<number> }
    if (typeof sized.approximateSize === 'function') {
      approximateBytes = await read('stats', async () => (sized.approximateSize as (s: string, e: string) => Promise<number>).call(st.db, '\x00', '\xff'))
    }
    return { events: st.totals.events, approximateBytes: Math.max(approximateBytes, st.totals.bytes) }
  }

  /**
   * A typed JSON key/value section for another component's state. The handle may be taken before
   * start(); each call uses the store as it is when called.
   */
  section<T> (name: string): StateSection<T> {
    if (typeof name !== 'string' || !SECTION_NAME_RE.test(name)) {
      throw new InvalidRequestError('section names are lowercase letters and dashes', { name: String(name).slice(0, 64) })
    }
    const sub = (): Sub<T> => {
      const st = this.require()
      let s = st.sections.get(name)
      if (s === undefined) {
        s = st.db.sublevel<string, unknown>(['section', name], { keyEncoding: 'utf8', valueEncoding: 'json' })
        st.sections.set(name, s)
      }
      return s as Sub<T>
    }
    return {
      get: async (key: string): Promise<T | undefined> => {
        checkSectionKey(key)
        const s = sub()
        return read('section get', async () => s.get(key))
      },
      put: async (key: string, value: T): Promise<void> => {
        checkSectionKey(key)
        const s = sub()
        await read('section put', async () => s.put(key, value))
      },
      del: async (key: string): Promise<void> => {
        checkSectionKey(key)
        const s = sub()
        await read('section del', async () => s.del(key))
      },
      entries: (): AsyncIterable<[string, T]> => sectionEntries(sub)
    }
  }

  // ---------------------------------------------------------------- lifecycle internals

  private require (): OpenState {
    if (this.status.state !== 'started') throw new NotStartedError('event store')
    return this.status.open
  }

  /** Runs write critical sections one at a time, in call order. */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.writeTail.then(fn)
    this.writeTail = run.then(noop, noop)
    return run
  }

  private async open (): Promise<OpenState> {
    const db: Root = new Level<string, string>(this.path, {
      keyEncoding: 'utf8',
      valueEncoding: 'utf8',
      cacheSize: this.cacheSize,
      writeBufferSize: this.writeBufferSize
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
        meta: db.sublevel<string, unknown>('meta', { keyEncoding: 'utf8', valueEncoding: 'json' }),
        sections: new Map(),
        counter: 0,
        lastReceivedMs: 0,
        arrivalByHour: new Map(),
        totals: { events: 0, bytes: 0 },
        sequences: new Map()
      }
      await this.recover(st)
      return st
    } catch (err) {
      await db.close().catch(noop)
      throw wrap('open', err)
    }
  }

  /** Rebuilds the in-memory counters from what the last committed batches wrote. */
  private async recover (st: OpenState): Promise<void> {
    const format = await st.meta.get('format')
    const [lastArrival] = await st.arrival.keys({ reverse: true, limit: 1 }).all()
    if (format === undefined) {
      if (lastArrival !== undefined) throw new CorruptRecordError('meta/format', 'records present without a format marker')
      await st.meta.put('format', STORE_FORMAT)
    } else if (format === 1 || format === 2) {
      await this.addArrivalSummary(st)
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
    this.log?.debug({ events: st.totals.events, cursor: st.counter, sequences: st.sequences.size }, 'event store opened')
  }

  /**
   * Builds the arrival summary of an older store (format 1, or 2) from its arrival entries, which
   * hold each record's event time. Idempotent: interrupted, it runs again from the start at the
   * next open, as the format marker moves on only after it.
   */
  private async addArrivalSummary (st: OpenState): Promise<void> {
    this.log?.info(`event store: building the arrival summary (store format ${STORE_FORMAT})`)
    const spans = new Map<number, HourSpan>()
    const it = st.arrival.iterator()
    try {
      for (;;) {
        const entries = await it.nextv(MIGRATION_CHUNK)
        if (entries.length === 0) break
        for (const [key, value] of entries) {
          const time = decodeFacts(key, value).time
          if (time === undefined) continue
          const hour = summaryHour(time)
          const counter = counterFromKey(key)
          const span = spans.get(hour)
          if (span === undefined) spans.set(hour, { first: counter, last: counter })
          else span.last = counter
        }
      }
    } finally {
      await it.close().catch(noop)
    }
    // format 2 kept first arrivals under another name
    await st.db.sublevel('hour-first').clear()
    await st.hourSpans.batch([...spans].map(([hour, span]) => ({ type: 'put' as const, key: hourKey(hour), value: encodeHourSpan(span) })))
    this.log?.info({ hours: spans.size }, 'event store: arrival summary built')
  }
}

/** Opens a store at `init.path` and starts it. */
export async function createEventStore (init: EventStoreInit, components: EventStoreComponents = {}): Promise<EventStore> {
  const store = new EventStore(components, init)
  await store.start()
  return store
}

// ---------------------------------------------------------------- helpers

/** Arrival counters of the first and the last record stored with an event time in one hour. */
interface HourSpan { first: number, last: number }

function encodeHourSpan (span: HourSpan): string {
  return `${span.first}:${span.last}`
}

function decodeHourSpan (value: string): HourSpan | undefined {
  const [first, last] = value.split(':').map(Number)
  if (first === undefined || last === undefined || !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 1 || last < first) return undefined
  return { first, last }
}

/**
 * Where in the arrival order records of the filter's since/until window can be, from the arrival
 * summary of the hours the window touches: at or after `first`, at or before `last`. Undefined
 * when no record held has an event time inside the window; `{}` when there is no window.
 */
function windowArrivals (st: OpenState, f: QueryFilter): { first?: number, last?: number } | undefined {
  if (f.sinceMs === undefined && f.untilMs === undefined) return {}
  const from = f.sinceMs === undefined ? 0 : summaryHour(f.sinceMs)
  const to = f.untilMs === undefined ? Number.POSITIVE_INFINITY : summaryHour(f.untilMs)
  let first = Number.POSITIVE_INFINITY
  let last = 0
  for (const [hour, span] of st.arrivalByHour) {
    if (hour < from || hour > to) continue
    if (span.first < first) first = span.first
    if (span.last > last) last = span.last
  }
  return last === 0 ? undefined : { first, last }
}

interface IndexChoice {
  sub: Sub<string> | undefined
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
function chooseIndex (st: OpenState, f: QueryFilter): IndexChoice {
  if (f.subject !== undefined) return { sub: st.bySubject, prefix: valuePrefix(f.subject), selective: true }
  if (f.chainId !== undefined) return { sub: st.byChain, prefix: valuePrefix(f.chainId), selective: true }
  if (f.source !== undefined) {
    const indexed = indexedSourcePrefix(f.source)
    if (indexed !== undefined) return { sub: st.bySourcePrefix, prefix: valuePart(indexed) + KEY_SEPARATOR, selective: false }
  }
  if (f.origin !== undefined && f.eventClass !== undefined) {
    return { sub: st.byOriginClass, prefix: originClassPrefix(f.origin, f.eventClass), selective: false }
  }
  if (f.typeExact !== undefined) return { sub: st.byType, prefix: valuePrefix(f.typeExact), selective: false }
  if (f.eventClass !== undefined) return { sub: st.byClass, prefix: valuePrefix(f.eventClass), selective: false }
  if (f.trusted === false) return { sub: st.untrusted, prefix: '', selective: false }
  if (f.origin !== undefined) return { sub: st.byOrigin, prefix: valuePrefix(f.origin), selective: false }
  return { sub: undefined, prefix: '', selective: false }
}

function matches (facts: RecordFacts, f: QueryFilter): boolean {
  if (f.typeExact !== undefined && facts.type !== f.typeExact) return false
  if (f.eventClass !== undefined && facts.eventClass !== f.eventClass) return false
  if (f.classPrefix !== undefined && !facts.eventClass.startsWith(f.classPrefix)) return false
  if (f.source !== undefined && !facts.source.startsWith(f.source)) return false
  if (f.subject !== undefined && facts.subject !== f.subject) return false
  if (f.chainId !== undefined && facts.chainId !== f.chainId) return false
  if (f.origin !== undefined && facts.origin !== f.origin) return false
  if (f.trusted !== undefined && facts.trusted !== f.trusted) return false
  if (f.sinceMs !== undefined && (facts.time === undefined || facts.time < f.sinceMs)) return false
  if (f.untilMs !== undefined && (facts.time === undefined || facts.time > f.untilMs)) return false
  return true
}

function parseQuery (q: EventQuery): QueryFilter {
  if (typeof q !== 'object' || q === null) throw new InvalidRequestError('query must be an object')
  const f: QueryFilter = {}
  if (q.type !== undefined) {
    checkFilterString(q.type, 'type')
    // Classes never start with `dev.`: `pipelinerun.finished`, `x.mytool-resource.created`.
    // Class patterns as subscriptions write them: `*` and `<subject>.*` (api/ checks the subject).
    if (q.type.startsWith('dev.')) f.typeExact = q.type
    else if (q.type.endsWith('.*')) f.classPrefix = q.type.slice(0, -1)
    else if (q.type !== '*') f.eventClass = q.type
  }
  if (q.source !== undefined) { checkFilterString(q.source, 'source'); f.source = q.source }
  if (q.subject !== undefined) { checkFilterString(q.subject, 'subject'); f.subject = q.subject }
  if (q.chainId !== undefined) { checkFilterString(q.chainId, 'chainId'); f.chainId = q.chainId }
  if (q.origin !== undefined) { checkFilterString(q.origin, 'origin'); f.origin = q.origin }
  if (q.since !== undefined) f.sinceMs = parseInstant(q.since, 'since')
  if (q.until !== undefined) f.untilMs = parseInstant(q.until, 'until')
  if (q.trusted !== undefined) {
    if (typeof q.trusted !== 'boolean') throw new InvalidRequestError('trusted must be a boolean')
    f.trusted = q.trusted
  }
  return f
}

function checkFilterString (value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_FILTER_LENGTH) {
    throw new InvalidRequestError(`${field} must be a string of 1 to ${MAX_FILTER_LENGTH} characters`, { field })
  }
}

function clampLimit (limit: unknown, field: string): number {
  if (limit === undefined) return DEFAULT_PAGE_SIZE
  return clampInt(limit, MAX_PAGE_SIZE, field)
}

function clampInt (value: unknown, max: number, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidRequestError(`${field} must be a positive integer`, { field })
  }
  return Math.min(value, max)
}

function checkDigest (digest: unknown): asserts digest is string {
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    throw new InvalidRequestError('digest must be 64 lowercase hex characters')
  }
}

function checkSectionKey (key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_SECTION_KEY_LENGTH) {
    throw new InvalidRequestError(`section keys are strings of 1 to ${MAX_SECTION_KEY_LENGTH} characters`)
  }
}

function checkStorable (event: SignedEvent): void {
  if (typeof event !== 'object' || event === null) throw new UnstorableEventError('not an event')
  if (typeof event.digest !== 'string' || !DIGEST_RE.test(event.digest)) throw new UnstorableEventError('malformed digest')
  if (!Number.isSafeInteger(event.sequence) || event.sequence < 1) throw new UnstorableEventError('sequence must be a positive integer')
  if (typeof event.origin !== 'string' || event.origin === '') throw new UnstorableEventError('missing origin')
  if (typeof event.eventClass !== 'string' || event.eventClass === '') throw new UnstorableEventError('missing event class')
  if (!(event.bytes instanceof Uint8Array)) throw new UnstorableEventError('missing wire bytes')
  const context = event.cdevent?.context
  if (typeof context?.id !== 'string' || typeof context.source !== 'string' || typeof context.type !== 'string') {
    throw new UnstorableEventError('CDEvent context lacks id, source or type')
  }
  if (typeof event.cdevent.subject?.id !== 'string') throw new UnstorableEventError('CDEvent subject lacks an id')
}

function positiveInt (value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`expected a positive integer, got ${String(value)}`)
  return value
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

/** Keeps our own errors as they are and turns anything level throws into a StoreError. */
function wrap (operation: string, err: unknown): Error {
  return isCdgossipError(err) ? err : new StoreError(operation, err)
}

async function read<T> (operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw wrap(operation, err)
  }
}

async function * sectionEntries<T> (sub: () => Sub<T>): AsyncGenerator<[string, T]> {
  const s = sub()
  const it = s.iterator()
  try {
    while (true) {
      let entries: Array<[string, T]>
      try {
        entries = await it.nextv(SCAN_CHUNK)
      } catch (err) {
        throw wrap('section read', err)
      }
      if (entries.length === 0) return
      yield * entries
    }
  } finally {
    await it.close().catch(noop)
  }
}

/**
 * The query's filters as a predicate over one record, for consumers that see records one at a
 * time (the SSE stream's live phase). Same rules as `query`; throws InvalidRequestError on a bad
 * filter, like `query`. Paging fields (limit, cursor) are ignored.
 */
export function eventQueryPredicate (q: EventQuery): (stored: StoredEvent) => boolean {
  const filter = parseQuery(q)
  return stored => matches(factsOf(stored.event, stored.trusted, Date.parse(stored.receivedAt)), filter)
}
