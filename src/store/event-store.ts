import { InvalidRequestError, NotStartedError } from '../errors.js'
import { ConflictingEventError, CorruptRecordError, StoreError, UnstorableEventError, asStoreError, levelCall } from './errors.js'
import { DEFAULT_CACHE_SIZE, DEFAULT_WRITE_BUFFER_SIZE, SCAN_CHUNK, noop, openLayout, storeStats } from './layout.js'
import type { OpenState, Opened, Root, StoreStats, Sub, Totals } from './layout.js'
import { DEFAULT_MAX_SCAN, DEFAULT_TIME_RANGE_COLLECT, cursorAtTime, lastCursor, query, readAfter } from './query-planner.js'
import type { QueryLimits } from './query-planner.js'
import { stateSection } from './sections.js'
import { highestSequence, missingSequences, nextSequenceStates, readSequenceRange, sequenceStates } from './sequence-index.js'
import { DIGEST_RE, getBySourceAndId, getMany, getRecord, hasRecord } from './point-reads.js'
import {
  KEY_SEPARATOR, KEY_UPPER, counterFromKey, cursorKey, decodeCursor, encodeCursor, indexedSourcePrefix, originClassPrefix,
  parseInstant, prefixEnd, sequenceFromKey, sequenceKey, sequencePrefix, sequenceStateKey, sourceIdKey, sourcePrefixes,
  hourKey, timeKey, valuePart, valuePrefix
} from './keys.js'
import { takeGroup } from './take-group.js'
import { encodeHourSpan, noteArrival, windowArrivals } from './arrival-summary.js'
import type { ArrivalSummary } from './arrival-summary.js'
import { checkFilterString, clampInt, clampLimit, matches, parseQuery } from './query-language.js'
import type { QueryFilter } from './query-language.js'
import { decodeFacts, decodeStoredRecord, encodeFacts, encodeStoredValue, factsOf, wireBytesOf } from './record.js'
import type { RecordFacts } from './record.js'
import type { AppendOutcome, EventPage, EventQuery, SequenceState, StateSection, StoredEvent } from './types.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import type { AbstractSublevel } from 'abstract-level'
import type { Logger } from 'pino'

/** Most records one `appendBatch` takes (a batch is one LevelDB write held in memory). */
export const MAX_APPEND_BATCH = 10_000

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

/** One write of the per-record batch; each sublevel encodes its own value. */
interface PutOp {
  type: 'put'
  // abstract-level types a batch's sublevel option with `any` encodings: values differ per sublevel
  sublevel: AbstractSublevel<Root, any, any, any>
  key: string
  value: unknown
}

type Status =
  | { state: 'stopped' }
  | { state: 'starting', done: Promise<void> }
  | { state: 'started', open: OpenState }
  | { state: 'stopping', done: Promise<void> }

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

/**
 * The local event log: signed records by digest, unique (source, id) and (origin, class, sequence),
 * arrival order and query indexes, each record with all its entries written in one LevelDB batch.
 * Writes are serialised so uniqueness checks and the batch are atomic with respect to each other;
 * reads run concurrently against committed data.
 */
export class EventStore {
  private readonly log: Logger | undefined
  private readonly path: string
  private readonly limits: QueryLimits
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
    this.limits = {
      maxScan: positiveInt(init.maxScan, DEFAULT_MAX_SCAN),
      timeRangeCollect: positiveInt(init.timeRangeCollect, DEFAULT_TIME_RANGE_COLLECT)
    }
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
    const done = openLayout(this.path, { cacheSize: this.cacheSize, writeBufferSize: this.writeBufferSize }, this.log).then((open) => {
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
    const sidHeld = await levelCall('read', async () => st.bySourceId.getMany(sidKeys))
    // A sequence entry can only exist at or below the highest sequence held for its (origin, class).
    const seqHeld = new Map<string, string>()
    const seqToCheck = items.flatMap(({ event }, i) =>
      sidHeld[i] === undefined && event.sequence <= (st.sequences.get(sequenceStateKey(event.origin, event.eventClass))?.highest ?? 0)
        ? [seqKeys[i] as string]
        : [])
    if (seqToCheck.length > 0) {
      const values = await levelCall('read', async () => st.bySequence.getMany(seqToCheck))
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
      const existing = await getMany(st, heldDuplicates.map((at) => digests[at] as string))
      heldDuplicates.forEach((at, n) => {
        const stored = existing[n]
        if (stored === undefined) throw new CorruptRecordError(digests[at] as string, 'record vanished')
        outcomes[at] = { status: 'duplicate', stored }
      })
    }

    if (pending.length > 0) {
      const sequenceUpdates = await nextSequenceStates(st, pending)
      // An array batch: measured ~40 % less CPU per record than a chained batch with sublevels.
      const ops: PutOp[] = []
      let bytes = 0
      const highest = new Map<string, number>()
      const touchedHours: ArrivalSummary = new Map()
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
      await levelCall('append', async () => st.db.batch<string, unknown>(ops, {}))
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
  private putRecord (st: OpenState, ops: PutOp[], entry: Pending, receivedAtMs: number, touchedHours: ArrivalSummary): number {
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
      noteArrival(touchedHours, st.arrivalByHour, facts.time, counter)
    }
    return value.length
  }

  // ---------------------------------------------------------------- point reads

  async get (digest: string): Promise<StoredEvent | undefined> {
    return getRecord(this.opened, digest)
  }

  async has (digest: string): Promise<boolean> {
    return hasRecord(this.opened, digest)
  }

  async getBySourceAndId (source: string, id: string): Promise<StoredEvent | undefined> {
    return getBySourceAndId(this.opened, source, id)
  }

  // ---------------------------------------------------------------- queries

  /** One page in arrival order, strictly after `cursor` (see query-planner.ts). */
  async query (q: EventQuery = {}): Promise<EventPage> {
    return query(this.opened, this.limits, q)
  }

  /** Up to `limit` records in arrival order strictly after `cursor` (from the beginning when absent). */
  async readAfter (cursor: string | undefined, limit: number): Promise<StoredEvent[]> {
    return readAfter(this.opened, cursor, limit)
  }

  /** Cursor of the newest record; undefined while the store is empty. */
  lastCursor (): string | undefined {
    return lastCursor(this.opened)
  }

  /**
   * The position from which `readAfter` yields exactly the records received at or after `iso`:
   * the cursor just before the first such record (`0` when that is the first record), or the
   * last cursor when every record was received earlier (undefined for an empty store).
   */
  async cursorAtTime (iso: string): Promise<string | undefined> {
    return cursorAtTime(this.opened, iso)
  }

  // ---------------------------------------------------------------- sequences

  /** Highest sequence held for (origin, class), 0 when none; served from memory. */
  async highestSequence (origin: string, eventClass: EventClass): Promise<number> {
    return highestSequence(this.opened, origin, eventClass)
  }

  /** What is held per (origin, class), for the given classes or all; served from memory. */
  async sequenceStates (eventClasses?: EventClass[]): Promise<SequenceState[]> {
    return sequenceStates(this.opened, eventClasses)
  }

  /** Up to `limit` sequence numbers below the highest held that are missing, ascending. */
  async missingSequences (origin: string, eventClass: EventClass, limit: number): Promise<number[]> {
    return missingSequences(this.opened, origin, eventClass, limit)
  }

  /** Wire bytes of the held records of (origin, class) with from <= sequence <= to, ascending, streamed (what sync serves; nothing is decoded). */
  readSequenceRange (origin: string, eventClass: EventClass, from: number, to: number): AsyncGenerator<Uint8Array> {
    return readSequenceRange(this.opened, origin, eventClass, from, to)
  }

  // ---------------------------------------------------------------- stats and state sections

  /** Record count and approximate on-disk size (see storeStats). */
  async stats (): Promise<StoreStats> {
    return storeStats(this.require())
  }

  /**
   * A typed JSON key/value section for another component's state. The handle may be taken before
   * start(); each call uses the store as it is when called.
   */
  section<T> (name: string): StateSection<T> {
    return stateSection<T>(this.opened, name)
  }

  // ---------------------------------------------------------------- lifecycle internals

  private require (): OpenState {
    if (this.status.state !== 'started') throw new NotStartedError('event store')
    return this.status.open
  }

  /** `require` as the parts take it (bound once, not per call) */
  private readonly opened: Opened = () => this.require()

  /** Runs write critical sections one at a time, in call order. */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.writeTail.then(fn)
    this.writeTail = run.then(noop, noop)
    return run
  }


}

/** Opens a store at `init.path` and starts it. */
export async function createEventStore (init: EventStoreInit, components: EventStoreComponents = {}): Promise<EventStore> {
  const store = new EventStore(components, init)
  await store.start()
  return store
}

// ---------------------------------------------------------------- helpers


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

