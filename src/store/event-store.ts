import { NotStartedError } from '../errors.js'
import { StoreError } from './errors.js'
import { DEFAULT_CACHE_SIZE, DEFAULT_WRITE_BUFFER_SIZE, noop, openLayout, storeStats } from './layout.js'
import { getBySourceAndId, getRecord, hasRecord } from './point-reads.js'
import { DEFAULT_MAX_SCAN, DEFAULT_TIME_RANGE_COLLECT, cursorAtTime, lastCursor, query, readAfter } from './query-planner.js'
import { stateSection } from './sections.js'
import { highestSequence, missingSequences, readSequenceRange, sequenceStates } from './sequence-index.js'
import { WritePath, type StoreItem } from './write-path.js'
import { chainDigests, traceHolders, traceReferrers } from './trace-index.js'
import type { Referrer } from '../events/trace-references.js'
import type { LayoutOptions, OpenState, Opened, StoreStats } from './layout.js'
import type { QueryLimits } from './query-planner.js'
import type { AppendOutcome, EventPage, EventQuery, SequenceState, StateSection, StoredEvent } from './types.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import type { Logger } from 'pino'

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

type Status =
  | { state: 'stopped' }
  | { state: 'starting', done: Promise<void> }
  | { state: 'started', open: OpenState }
  | { state: 'stopping', done: Promise<void> }

/**
 * The local event log: signed records by digest, unique (source, id) and (origin, class, sequence),
 * arrival order and query indexes, each record with all its entries written in one LevelDB batch.
 * Writes are serialised so uniqueness checks and the batch are atomic with respect to each other;
 * reads run concurrently against committed data.
 *
 * This class is the facade: it owns the lifecycle and hands each call to the part that does it,
 * with the open state: layout.ts (layout, open, recovery, migration), write-path.ts (appends,
 * group commit), held-ids.ts (the filter in front of the uniqueness index), point-reads.ts,
 * query-planner.ts (queries, arrival-order reads), sequence-index.ts, sections.ts.
 */
export class EventStore {
  private readonly log: Logger | undefined
  private readonly path: string
  private readonly layout: LayoutOptions
  private readonly limits: QueryLimits
  private status: Status = { state: 'stopped' }
  /** the open state as the parts take it: bound once, not per call */
  private readonly opened: Opened = () => this.require()
  private readonly writes = new WritePath(this.opened)

  constructor (components: EventStoreComponents, init: EventStoreInit) {
    if (typeof init.path !== 'string' || init.path === '') throw new Error('EventStore needs a path')
    this.log = components.log
    this.path = init.path
    this.layout = {
      cacheSize: positiveInt(init.cacheSize, DEFAULT_CACHE_SIZE),
      writeBufferSize: positiveInt(init.writeBufferSize, DEFAULT_WRITE_BUFFER_SIZE)
    }
    this.limits = {
      maxScan: positiveInt(init.maxScan, DEFAULT_MAX_SCAN),
      timeRangeCollect: positiveInt(init.timeRangeCollect, DEFAULT_TIME_RANGE_COLLECT)
    }
  }

  isStarted (): boolean {
    return this.status.state === 'started'
  }

  async start (): Promise<void> {
    const status = this.status
    if (status.state === 'started') return
    if (status.state === 'starting') return status.done
    if (status.state === 'stopping') await status.done
    const done = openLayout(this.path, this.layout, this.log).then((open) => {
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
      // Let writes already queued finish: each batch is all written or not at all.
      await this.writes.settled()
      try {
        await status.open.heldIds.stop()
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

  /**
   * Stores one verified record, or reports the identical record already held (or, with
   * `aliasWithin`, the record of the same community it duplicates: see StoreItem).
   */
  async append (event: SignedEvent, meta: Omit<StoreItem, 'event'>): Promise<AppendOutcome> {
    const [outcome] = await this.appendBatch([{ event, ...meta }])
    if (outcome === undefined) throw new Error('appendBatch returned no outcome')
    return outcome
  }

  /**
   * Stores several records atomically: all or nothing (a conflict refuses the whole call; a
   * record already held is a `duplicate`). Calls that arrive while a write is in progress share
   * the next LevelDB write (group commit), each still all-or-nothing on its own.
   */
  async appendBatch (items: StoreItem[]): Promise<AppendOutcome[]> {
    return this.writes.appendBatch(items)
  }

  /**
   * Resolves once the in-memory filter of held (source, id) keys covers the whole store
   * (held-ids.ts), which it builds in the background after start(). Appends are as correct
   * before that, only each of them reads the uniqueness index.
   */
  async heldIdsScanned (): Promise<void> {
    await this.require().heldIds.whenScanned()
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

  /**
   * One page in arrival order, strictly after `cursor`. A post-filtered call examines at most
   * `maxScan` entries and may then return fewer (even zero) events with a `next` cursor past
   * everything it examined, so the client keeps paging while `next` is set.
   */
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

  /**
   * Wire bytes of the held records of (origin, class) with from <= sequence <= to, ascending,
   * streamed (what sync serves; nothing is decoded). Arguments are checked at the first `next()`.
   */
  readSequenceRange (origin: string, eventClass: EventClass, from: number, to: number): AsyncGenerator<Uint8Array> {
    return readSequenceRange(this.opened, origin, eventClass, from, to)
  }

  // ---------------------------------------------------------------- trace indexes

  /** Digests of the records that are trace key `key` (events/trace-references.ts), up to `limit`. */
  async traceHolders (key: string, limit: number): Promise<string[]> {
    return traceHolders(this.opened, key, limit)
  }

  /** The records that reference trace key `key`, with how, up to `limit`. */
  async traceReferrers (key: string, limit: number): Promise<Referrer[]> {
    return traceReferrers(this.opened, key, limit)
  }

  /** Digests of the held records of a chain, in arrival order, up to `limit`. */
  async chainDigests (chainId: string, limit: number): Promise<string[]> {
    return chainDigests(this.opened, chainId, limit)
  }

  // ---------------------------------------------------------------- stats and state sections

  /**
   * Record count (kept in the same batch as the records) and the on-disk size LevelDB estimates;
   * while LevelDB cannot tell yet (data still in its memtable), the bytes of the records stored.
   */
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

  private require (): OpenState {
    if (this.status.state !== 'started') throw new NotStartedError('event store')
    return this.status.open
  }
}

/** Opens a store at `init.path` and starts it. */
export async function createEventStore (components: EventStoreComponents, init: EventStoreInit): Promise<EventStore> {
  const store = new EventStore(components, init)
  await store.start()
  return store
}

function positiveInt (value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`expected a positive integer, got ${String(value)}`)
  return value
}
