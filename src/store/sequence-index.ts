import { InvalidRequestError } from '../errors.js'
import { asStoreError, CorruptRecordError, levelCall } from './errors.js'
import { prefixEnd, sequenceFromKey, sequenceKey, sequencePrefix, sequenceStateKey } from './keys.js'
import { SCAN_CHUNK, noop } from './layout.js'
import { clampInt } from './query-language.js'
import { wireBytesOf } from './record.js'
import type { OpenState, Opened } from './layout.js'
import type { SequenceState } from './types.js'
import type { EventClass, SignedEvent } from '../events/types.js'

/**
 * The sequence index: what is held of each (origin, class) sequence. The per-pair state
 * (highest, contiguous) lives in memory and in the `seqstate` sublevel, updated in the batch
 * that stores the records; the `seq` sublevel maps (origin, class, sequence) to a digest, which
 * gap reports and sync's range reads walk.
 */

/** Most gaps `missingSequences` reports per call. */
export const MAX_MISSING_SEQUENCES = 10_000
/** Most event classes one `sequenceStates` call may name. */
export const MAX_SEQUENCE_STATE_CLASSES = 4096
/** Records per read of a range sync serves: one `nextv` of the index, one `getMany` of the records. */
const RANGE_CHUNK = 64

/** New (highest, contiguous) per (origin, class) touched by the pending records. */
export async function nextSequenceStates (st: OpenState, pending: ReadonlyArray<{ event: SignedEvent }>): Promise<Map<string, SequenceState>> {
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
      contiguous = await extendContiguous(st, group.origin, group.eventClass, contiguous, group.seqs)
    }
    updates.set(key, { origin: group.origin, eventClass: group.eventClass, highest, contiguous })
  }
  return updates
}

async function extendContiguous (st: OpenState, origin: string, eventClass: string, from: number, pendingSeqs: Set<number>): Promise<number> {
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
    throw asStoreError('read', err)
  } finally {
    await it.close().catch(noop)
  }
}

/** Highest sequence held for (origin, class), 0 when none; served from memory. */
export function highestSequence (opened: Opened, origin: string, eventClass: EventClass): number {
  const st = opened()
  return st.sequences.get(sequenceStateKey(origin, eventClass))?.highest ?? 0
}

/** What is held per (origin, class), for the given classes or all; served from memory. */
export async function sequenceStates (opened: Opened, eventClasses?: EventClass[]): Promise<SequenceState[]> {
  if (eventClasses !== undefined) {
    if (!Array.isArray(eventClasses) || eventClasses.length > MAX_SEQUENCE_STATE_CLASSES) {
      throw new InvalidRequestError(`at most ${MAX_SEQUENCE_STATE_CLASSES} event classes`)
    }
  }
  const st = opened()
  const wanted = eventClasses === undefined ? undefined : new Set(eventClasses)
  const states: SequenceState[] = []
  for (const state of st.sequences.values()) {
    if (wanted === undefined || wanted.has(state.eventClass)) states.push({ ...state })
  }
  return states.sort((a, b) => a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : a.eventClass < b.eventClass ? -1 : a.eventClass > b.eventClass ? 1 : 0)
}

/** Up to `limit` sequence numbers below the highest held that are missing, ascending. */
export async function missingSequences (opened: Opened, origin: string, eventClass: EventClass, limit: number): Promise<number[]> {
  const max = clampInt(limit, MAX_MISSING_SEQUENCES, 'limit')
  const st = opened()
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
    throw asStoreError('read', err)
  } finally {
    await it.close().catch(noop)
  }
  return missing
}

/** Wire bytes of the held records of (origin, class) with from <= sequence <= to, ascending, streamed (what sync serves; nothing is decoded). */
export async function * readSequenceRange (opened: Opened, origin: string, eventClass: EventClass, from: number, to: number): AsyncGenerator<Uint8Array> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new InvalidRequestError('sequence bounds must be integers')
  const st = opened()
  const lo = Math.max(from, 1)
  if (to < lo) return
  const prefix = sequencePrefix(origin, eventClass)
  const it = st.bySequence.iterator({ gte: prefix + sequenceKey(lo), lte: prefix + sequenceKey(to) })
  try {
    while (true) {
      let entries: Array<[string, string]>
      try {
        entries = await it.nextv(RANGE_CHUNK)
      } catch (err) {
        throw asStoreError('read', err)
      }
      if (entries.length === 0) return
      const digests = entries.map(([, digest]) => digest)
      const values = await levelCall('read', async () => st.records.getMany(digests))
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
