import { InvalidRequestError } from '../errors.js'
import { ConflictingEventError, CorruptRecordError, UnstorableEventError, levelCall } from './errors.js'
import {
  KEY_SEPARATOR, cursorKey, encodeCursor, hourKey, originClassPrefix, sequenceKey, sequencePrefix, sequenceStateKey, sourceIdKey,
  sourcePrefixes, timeKey, valuePart, valuePrefix
} from './keys.js'
import { noop } from './layout.js'
import { encodeHourSpan, noteArrival } from './arrival-summary.js'
import { DIGEST_RE, getMany } from './point-reads.js'
import { encodeFacts, encodeStoredValue, factsOf } from './record.js'
import { nextSequenceStates } from './sequence-index.js'
import { takeGroup } from './take-group.js'
import { traceEntries } from './trace-index.js'
import type { ArrivalSummary } from './arrival-summary.js'
import type { OpenState, Opened, Sub, Totals } from './layout.js'
import type { AppendOutcome, StoredEvent } from './types.js'
import type { SignedEvent } from '../events/types.js'

/**
 * The write path: appends are checked, queued, and committed by group commit, each record with
 * all its entries (record, arrival, uniqueness, sequence and query indexes, the sequence state and
 * arrival summary it changes, the totals) in one LevelDB batch. Writes run one at a time, so the
 * uniqueness checks and the batch are atomic with respect to each other.
 */

/** Most records one `appendBatch` takes (a batch is one LevelDB write held in memory). */
export const MAX_APPEND_BATCH = 10_000

/**
 * `aliasWithin`: when the (source, id) is already held by another record with identical CDEvent
 * data whose origin this accepts (a node of the same community signed the same tool event), the
 * item is not a conflict but a duplicate of it, kept as an alias (see appendLocked).
 */
export interface StoreItem { event: SignedEvent, trusted: boolean, aliasWithin?: (heldOrigin: string) => boolean }

/**
 * One put of the per-record batch, addressed in the root database: the sublevel's prefix joined to
 * the key, the value already in its sublevel's stored form (utf8 text, or a record's bytes).
 * Written through one chained batch on the root (commitOps). An array batch of sublevel ops costs
 * the main thread more than twice as much per record (~43 against ~19 µs for a record's 17 puts):
 * abstract-level copies every op to prefix and encode it, and classic-level's native side reads
 * each op object's properties by name. BENCHMARKS.md, "Round 7".
 */
interface PutOp {
  key: string
  value: string | Uint8Array
}

/** A put into a sublevel that stores its values as they are: text (the indexes, the arrival facts) or bytes (the records). */
function putOp<V extends string | Uint8Array> (sublevel: Sub<V>, key: string, value: V): PutOp {
  return { key: sublevel.prefixKey(key, 'utf8'), value }
}

/** A put into a JSON-valued sublevel: the text its `json` encoding would store. */
function putJsonOp<V> (sublevel: Sub<V>, key: string, value: V): PutOp {
  return { key: sublevel.prefixKey(key, 'utf8'), value: JSON.stringify(value) }
}

const AS_BYTES = { valueEncoding: 'view' } as const

/**
 * Writes `ops` as one atomic LevelDB batch. Nothing between opening the batch and writing it can
 * throw: the keys are strings and the values text or bytes, which is all `put` checks.
 */
async function commitOps (st: OpenState, ops: PutOp[]): Promise<void> {
  const batch = st.db.batch()
  for (const op of ops) {
    if (typeof op.value === 'string') batch.put(op.key, op.value)
    else batch.put<string, Uint8Array>(op.key, op.value, AS_BYTES)
  }
  await batch.write()
}

interface Pending {
  event: SignedEvent
  /** its key in the uniqueness index */
  sidKey: string
  trusted: boolean
  counter: number
  /** what the call is told; `highestBefore` is filled in once the write's order is final */
  outcome: Extract<AppendOutcome, { status: 'stored' }>
}

/** A sibling's copy of a held event: kept for its sequence only, answered as a duplicate of `kept`. */
interface PendingAlias {
  event: SignedEvent
  kept: StoredEvent
}

/** An appendBatch call waiting for the next group commit. */
interface QueuedWrite {
  items: StoreItem[]
  resolve: (outcomes: AppendOutcome[]) => void
  reject: (err: unknown) => void
}

/** The store's write side: the queue of appendBatch calls and the lock their commits run under. */
export class WritePath {
  private readonly opened: Opened
  private writeTail: Promise<void> = Promise.resolve()
  private readonly queuedWrites: QueuedWrite[] = []
  private flushScheduled = false

  constructor (opened: Opened) {
    this.opened = opened
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
  async appendBatch (items: StoreItem[]): Promise<AppendOutcome[]> {
    if (!Array.isArray(items)) throw new InvalidRequestError('appendBatch needs an array')
    if (items.length > MAX_APPEND_BATCH) {
      throw new InvalidRequestError(`at most ${MAX_APPEND_BATCH} records per batch`, { items: items.length })
    }
    if (items.length === 0) return []
    for (const item of items) checkStorable(item.event)
    // Captured now: a write queued before stop() began still completes, stop() waits for it.
    const st = this.opened()
    return await new Promise<AppendOutcome[]>((resolve, reject) => {
      this.queuedWrites.push({ items, resolve, reject })
      if (!this.flushScheduled) this.scheduleFlush(st)
    })
  }

  /**
   * Resolves once every write queued so far has finished (each batch is all written or not at
   * all); a flush can queue the next one, so this waits until the tail stops moving.
   */
  async settled (): Promise<void> {
    let tail: Promise<void>
    do {
      tail = this.writeTail
      await tail
    } while (tail !== this.writeTail)
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
      const results = await appendLocked(st, writes.map((w) => w.items))
      results.forEach((result, i) => {
        const write = writes[i] as QueuedWrite
        if (result instanceof ConflictingEventError) write.reject(result)
        else write.resolve(result)
      })
    } catch (err) {
      for (const write of writes) write.reject(err)
    }
  }

  /** Runs write critical sections one at a time, in call order. */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.writeTail.then(fn)
    this.writeTail = run.then(noop, noop)
    return run
  }
}

/**
 * One LevelDB write for several calls. Each call is checked against the store and against the
 * calls before it in this write; a conflicting call is left out (its result is the error) and
 * the others go ahead.
 */
async function appendLocked (st: OpenState, calls: StoreItem[][]): Promise<Array<AppendOutcome[] | ConflictingEventError>> {
  const items = calls.flat()
  const digests = items.map((item) => item.event.digest)
  const sidKeys = items.map((item) => sourceIdKey(item.event.cdevent.context.source, item.event.cdevent.context.id))
  const seqKeys = items.map((item) => sequencePrefix(item.event.origin, item.event.eventClass) + sequenceKey(item.event.sequence))
  // (source, id) comes from the same bytes as the digest, so its entry also answers "held?":
  // this digest means a duplicate, another digest a conflict. No read for a new one.
  const sidHeld = await readHeldSourceIds(st, sidKeys)
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

  const aliasCandidates = await readAliasCandidates(st, items, sidHeld, seqKeys)

  const outcomes: Array<AppendOutcome | undefined> = new Array(items.length)
  /** per call: the conflict that left it out of this write, undefined when it goes in */
  const conflicts: Array<ConflictingEventError | undefined> = []
  const pendingByDigest = new Map<string, Pending>()
  const pendingSid = new Map<string, string>()
  const pendingSeq = new Map<string, string>()
  const pending: Pending[] = []
  const aliases: PendingAlias[] = []
  const heldDuplicates: number[] = []
  let counter = st.counter
  const receivedAtMs = Math.max(Date.now(), st.lastReceivedMs)
  const receivedAt = new Date(receivedAtMs).toISOString()

  let i = 0
  for (const call of calls) {
    const first = i
    const callStart = { pending: pending.length, aliases: aliases.length, duplicates: heldDuplicates.length, counter }
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
      const seqKey = seqKeys[at] as string
      if (existingSid !== undefined && existingSid !== digest) {
        const kept = pendingByDigest.get(existingSid)?.outcome.stored ?? aliasCandidates.get(at)?.kept
        if (kept === undefined || item.aliasWithin === undefined || !isAlias(item.event, kept.event, item.aliasWithin)) {
          conflict = new ConflictingEventError({ kind: 'source-id', digest, existingDigest: existingSid })
          continue
        }
        const existingSeq = pendingSeq.get(seqKey) ?? aliasCandidates.get(at)?.seqHeld ?? seqHeld.get(seqKey)
        if (existingSeq === digest) {
          outcomes[at] = { status: 'duplicate', stored: kept }
          continue
        }
        if (existingSeq !== undefined) {
          conflict = new ConflictingEventError({ kind: 'sequence', digest, existingDigest: existingSeq })
          continue
        }
        pendingSeq.set(seqKey, digest)
        added.push([pendingSeq, seqKey])
        aliases.push({ event: item.event, kept })
        outcomes[at] = { status: 'duplicate', stored: kept }
        continue
      }
      const existingSeq = pendingSeq.get(seqKey) ?? seqHeld.get(seqKey)
      if (existingSeq !== undefined && existingSeq !== digest) {
        conflict = new ConflictingEventError({ kind: 'sequence', digest, existingDigest: existingSeq })
        continue
      }
      counter++
      const stored: StoredEvent = { event: item.event, cursor: encodeCursor(counter), receivedAt, trusted: item.trusted === true }
      const entry: Pending = { event: item.event, sidKey, trusted: stored.trusted, counter, outcome: { status: 'stored', stored, highestBefore: 0 } }
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
    aliases.length = callStart.aliases
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

  if (pending.length > 0 || aliases.length > 0) {
    const sequenceUpdates = await nextSequenceStates(st, [...pending, ...aliases])
    const ops: PutOp[] = []
    let bytes = 0
    const highest = new Map<string, number>()
    const touchedHours: ArrivalSummary = new Map()
    for (const entry of pending) {
      bytes += putRecord(st, ops, entry, receivedAtMs, touchedHours)
      const key = sequenceStateKey(entry.event.origin, entry.event.eventClass)
      const before = highest.get(key) ?? st.sequences.get(key)?.highest ?? 0
      highest.set(key, Math.max(before, entry.event.sequence))
      entry.outcome.highestBefore = before
    }
    for (const alias of aliases) bytes += putAlias(st, ops, alias, receivedAtMs)
    for (const [key, state] of sequenceUpdates) {
      ops.push(putJsonOp(st.sequenceStates, key, state))
    }
    for (const [hour, span] of touchedHours) {
      ops.push(putOp(st.hourSpans, hourKey(hour), encodeHourSpan(span)))
    }
    const totals: Totals = { events: st.totals.events + pending.length, bytes: st.totals.bytes + bytes }
    ops.push(putJsonOp(st.meta, 'totals', totals))
    await levelCall('append', async () => { await commitOps(st, ops) })
    for (const entry of pending) st.heldIds.add(entry.sidKey)
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
 * The digest each (source, id) key is held under, undefined when not held. Only the keys the
 * in-memory filter cannot rule out are read (held-ids.ts): for a new event, none.
 */
async function readHeldSourceIds (st: OpenState, sidKeys: string[]): Promise<Array<string | undefined>> {
  const toRead: number[] = []
  for (let i = 0; i < sidKeys.length; i++) if (st.heldIds.mightHold(sidKeys[i] as string)) toRead.push(i)
  const held = new Array<string | undefined>(sidKeys.length).fill(undefined)
  if (toRead.length === 0) return held
  const values = await levelCall('read', async () => st.bySourceId.getMany(toRead.map((i) => sidKeys[i] as string)))
  toRead.forEach((at, n) => { held[at] = values[n] })
  return held
}

/**
 * Reads what deciding on an alias needs, for the items whose (source, id) is held under another
 * digest and that accept aliases: the held record and what the item's sequence slot holds. Only
 * the rare case pays the reads.
 */
async function readAliasCandidates (st: OpenState, items: StoreItem[], sidHeld: Array<string | undefined>, seqKeys: string[]): Promise<Map<number, { kept: StoredEvent | undefined, seqHeld: string | undefined }>> {
  const at = items.flatMap((item, i) => item.aliasWithin !== undefined && sidHeld[i] !== undefined && sidHeld[i] !== item.event.digest ? [i] : [])
  const candidates = new Map<number, { kept: StoredEvent | undefined, seqHeld: string | undefined }>()
  if (at.length === 0) return candidates
  const kept = await getMany(st, at.map(i => sidHeld[i] as string))
  const seqHeld = await levelCall('read', async () => st.bySequence.getMany(at.map(i => seqKeys[i] as string)))
  at.forEach((i, n) => { candidates.set(i, { kept: kept[n], seqHeld: seqHeld[n] }) })
  return candidates
}

/**
 * Two nodes of one community signed the same tool event (a webhook delivered to both, a retried
 * publish that went to the other node): same (source, id), identical CDEvent data bytes, another
 * origin the caller counts as the same community. Anything else with a taken (source, id) stays a
 * conflict.
 */
function isAlias (event: SignedEvent, kept: SignedEvent, aliasWithin: (heldOrigin: string) => boolean): boolean {
  return kept.origin !== event.origin && aliasWithin(kept.origin) &&
    event.data.length === kept.data.length && Buffer.compare(event.data, kept.data) === 0
}

/**
 * An alias is written as a record and a sequence entry only: sync serves it byte-identical from
 * its signer's sequence (so that sequence has no hole a peer would fetch forever), while no
 * arrival, uniqueness or query entry points at it, so queries, streams and delivery see the kept
 * record alone. Its stored header carries the kept record's arrival counter. Returns its size.
 */
function putAlias (st: OpenState, ops: PutOp[], alias: PendingAlias, receivedAtMs: number): number {
  const { event, kept } = alias
  const value = encodeStoredValue(event, { counter: parseInt(kept.cursor, 36), receivedAtMs, trusted: kept.trusted })
  ops.push(putOp(st.records, event.digest, value))
  ops.push(putOp(st.bySequence, sequencePrefix(event.origin, event.eventClass) + sequenceKey(event.sequence), event.digest))
  return value.length
}

/**
 * Adds one record and its index entries to the batch; returns the record's stored size. Records
 * come in arrival order; the record's hour of event time goes into `touchedHours` with its new
 * span, which the caller writes once per hour.
 */
function putRecord (st: OpenState, ops: PutOp[], entry: Pending, receivedAtMs: number, touchedHours: ArrivalSummary): number {
  const { event, sidKey, trusted, counter } = entry
  const facts = factsOf(event, trusted, receivedAtMs)
  const ck = cursorKey(counter)
  const value = encodeStoredValue(event, { counter, receivedAtMs, trusted })
  const put = (sublevel: Sub<string>, key: string, v: string): void => { ops.push(putOp(sublevel, key, v)) }
  const index = (sublevel: Sub<string>, key: string): void => { put(sublevel, key, '') }
  ops.push(putOp(st.records, event.digest, value))
  put(st.arrival, ck, encodeFacts(facts))
  put(st.bySourceId, sidKey, event.digest)
  put(st.bySequence, sequencePrefix(event.origin, event.eventClass) + sequenceKey(event.sequence), event.digest)
  index(st.byType, valuePrefix(facts.type) + ck)
  index(st.byClass, valuePrefix(facts.eventClass) + ck)
  for (const prefix of sourcePrefixes(facts.source)) index(st.bySourcePrefix, valuePart(prefix) + KEY_SEPARATOR + ck)
  index(st.bySubject, valuePrefix(facts.subject) + ck)
  if (facts.chainId !== undefined) index(st.byChain, valuePrefix(facts.chainId) + ck)
  index(st.byOrigin, valuePrefix(facts.origin) + ck)
  index(st.byOriginClass, originClassPrefix(facts.origin, facts.eventClass) + ck)
  if (!trusted) index(st.untrusted, ck)
  for (const e of traceEntries(event, ck)) put(e.sublevel === 'id' ? st.traceIds : st.traceRefs, e.key, e.value)
  if (facts.time !== undefined) {
    index(st.byTime, timeKey(facts.time) + KEY_SEPARATOR + ck)
    noteArrival(touchedHours, st.arrivalByHour, facts.time, counter)
  }
  return value.length
}

/** What the indexes need of an event; anything else is a caller bug or a forgery that slipped through. */
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
