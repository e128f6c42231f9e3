/**
 * Sequences this node refused by its own policy (its trust entries), per (origin, class). They are
 * *known*, not *missing*: sync does not fetch them again and they are no gap. When the policy
 * changes for an origin, its refusals are forgotten, so sync fetches them again from any peer.
 * Kept as intervals (memory grows with the holes, not the records) and persisted in a store
 * state section, so a restart neither re-fetches them nor reports them as gaps.
 */
import { IntervalSet } from './intervals.js'
import type { Interval } from './intervals.js'
import type { EventClass } from '../../events/types.js'
import type { StateSection } from '../../contracts/state-section.js'
import type { Logger } from 'pino'

/**
 * (origin, class) pairs with refusals remembered. Each costs a few hundred bytes and one small
 * LevelDB entry; beyond the bound the least recently refused pair is forgotten, which costs
 * fetching (and refusing) its records once more, never a record.
 * @default 4_096
 */
export const MAX_REFUSAL_PAIRS = 4_096
/**
 * Intervals kept per pair. A policy that refuses every other record fragments the set; beyond the
 * bound the oldest intervals are dropped (fetched and refused again at worst).
 * @default 256
 */
export const MAX_REFUSAL_INTERVALS = 256
/**
 * Changed pairs are written at most this often: a burst of refused gossip costs one write per
 * pair a second, not one per record. Losing the last second in a crash costs a re-fetch.
 * @default 1_000
 */
export const REFUSAL_FLUSH_MS = 1_000
/** Origins listed in a summary (GET /v1/node); the count of all is given beside them. */
export const MAX_REFUSAL_ORIGINS_SHOWN = 50

/** What the node persists per pair (the `sync-refusals` state section). */
export interface PersistedRefusals {
  origin: string
  eventClass: EventClass
  intervals: Array<[number, number]>
  /** distinct sequences refused, by reason */
  reasons: Record<string, number>
  /** every sequence 1..through is held or refused */
  through: number
  /** the policy fingerprint the refusals were made under */
  policy: string
  lastSource?: string
  lastAt: string
}

export interface Refusal {
  origin: string
  eventClass: EventClass
  sequence: number
  /** why (`unknown-signer`, `source-not-allowed`, `class-not-allowed`) */
  reason: string
  source?: string
}

export interface OriginRefusals {
  origin: string
  /** distinct sequences refused, by reason */
  reasons: Record<string, number>
  classes: EventClass[]
  lastSource?: string
  lastAt: string
}

export interface RefusalSummary {
  /** distinct sequences refused across every remembered pair */
  sequences: number
  /** by reason, across every remembered pair */
  reasons: Record<string, number>
  /** origins with refusals (all of them, not only those listed) */
  originCount: number
  /** the most recently refused origins, at most MAX_REFUSAL_ORIGINS_SHOWN */
  origins: OriginRefusals[]
}

/** What sync reads: refused sequences are skipped and are no gap. */
export interface RefusedSequences {
  /** the refused sequences of a pair, ascending (empty when none) */
  intervals(origin: string, eventClass: EventClass): readonly Interval[]
  /** the highest n such that every sequence 1..n is held or refused, given the store's `contiguous` */
  knownThrough(origin: string, eventClass: EventClass, contiguous: number): number
  /** forget the refusals today's policy no longer stands behind; the origins they were of */
  reconcile?(): string[]
}

export interface RefusalLedgerComponents {
  /** where pairs are persisted; none: memory only */
  section?: StateSection<PersistedRefusals>
  /** a fingerprint of the policy that applies to this origin now (trust mode and its entry) */
  policy(origin: string): string
  log?: Logger
}

export interface RefusalLedgerInit {
  /** @default MAX_REFUSAL_PAIRS */
  maxPairs?: number
  /** @default MAX_REFUSAL_INTERVALS */
  maxIntervals?: number
  /** @default REFUSAL_FLUSH_MS */
  flushMs?: number
}

interface PairRefusals {
  origin: string
  eventClass: EventClass
  refused: IntervalSet
  /** held sequences seen above `through` (stored or duplicate), to move `through` past them */
  held: IntervalSet
  reasons: Record<string, number>
  through: number
  policy: string
  lastSource?: string
  lastAt: number
}

function pairKey (origin: string, eventClass: EventClass): string {
  return `${origin} ${eventClass}`
}

export class RefusalLedger implements RefusedSequences {
  private readonly components: RefusalLedgerComponents
  private readonly maxPairs: number
  private readonly maxIntervals: number
  private readonly flushMs: number
  /** in least recently refused order */
  private readonly pairs = new Map<string, PairRefusals>()
  private readonly dirty = new Set<string>()
  private readonly deleted = new Set<string>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private flushing: Promise<void> = Promise.resolve()

  constructor (components: RefusalLedgerComponents, init: RefusalLedgerInit = {}) {
    this.components = components
    this.maxPairs = init.maxPairs ?? MAX_REFUSAL_PAIRS
    this.maxIntervals = init.maxIntervals ?? MAX_REFUSAL_INTERVALS
    this.flushMs = init.flushMs ?? REFUSAL_FLUSH_MS
  }

  /**
   * Reads the persisted pairs. Refusals made under another policy than today's (the config file
   * or the API changed the trust entry or the mode while the node was down) are forgotten: their
   * records may be acceptable now. Returns the origins forgotten.
   */
  async load (): Promise<string[]> {
    const { section } = this.components
    if (section === undefined) return []
    const forgotten = new Set<string>()
    const loaded: PairRefusals[] = []
    for await (const [key, value] of section.entries()) {
      if (!isPersisted(value) || key !== pairKey(value.origin, value.eventClass)) {
        this.deleted.add(key)
        continue
      }
      if (value.policy !== this.components.policy(value.origin)) {
        forgotten.add(value.origin)
        this.deleted.add(key)
        continue
      }
      const refused = new IntervalSet()
      for (const [a, b] of value.intervals) refused.add(a, b)
      loaded.push({
        origin: value.origin,
        eventClass: value.eventClass,
        refused,
        held: new IntervalSet(),
        reasons: { ...value.reasons },
        through: value.through,
        policy: value.policy,
        ...(value.lastSource === undefined ? {} : { lastSource: value.lastSource }),
        lastAt: Date.parse(value.lastAt) || 0
      })
    }
    loaded.sort((a, b) => a.lastAt - b.lastAt)
    for (const pair of loaded) this.pairs.set(pairKey(pair.origin, pair.eventClass), pair)
    this.evict()
    this.schedule()
    return [...forgotten]
  }

  /** Remember one refused sequence; false when it was already known. */
  record (refusal: Refusal): boolean {
    const { origin, eventClass, sequence, reason, source } = refusal
    if (!Number.isSafeInteger(sequence) || sequence < 1) return false
    const key = pairKey(origin, eventClass)
    const policy = this.components.policy(origin)
    let pair = this.pairs.get(key)
    if (pair !== undefined && pair.policy !== policy) {
      // refused again under a new policy: the old refusals were forgotten when it changed
      pair = undefined
    }
    if (pair === undefined) {
      pair = { origin, eventClass, refused: new IntervalSet(), held: new IntervalSet(), reasons: {}, through: 0, policy, lastAt: 0 }
    } else {
      this.pairs.delete(key)
    }
    this.pairs.set(key, pair)
    this.evict()
    pair.lastAt = Date.now()
    if (source !== undefined) pair.lastSource = source
    if (pair.refused.has(sequence)) return false
    pair.refused.add(sequence)
    pair.reasons[reason] = (pair.reasons[reason] ?? 0) + 1
    while (pair.refused.intervalCount > this.maxIntervals) {
      const [first] = pair.refused.intervals()
      if (first === undefined) break
      pair.refused.remove(first[0], first[1])
    }
    this.markDirty(key)
    return true
  }

  /** A sequence of a pair with refusals is held (stored, or already held): lets `through` pass it. */
  noteHeld (origin: string, eventClass: EventClass, sequence: number): void {
    const pair = this.pairs.get(pairKey(origin, eventClass))
    if (pair === undefined || sequence <= pair.through) return
    pair.held.add(sequence)
    if (pair.held.intervalCount > this.maxIntervals) pair.held.clear()
    this.advance(pair, pair.through)
  }

  has (origin: string, eventClass: EventClass, sequence: number): boolean {
    return this.pairs.get(pairKey(origin, eventClass))?.refused.has(sequence) ?? false
  }

  intervals (origin: string, eventClass: EventClass): readonly Interval[] {
    return this.pairs.get(pairKey(origin, eventClass))?.refused.intervals() ?? []
  }

  knownThrough (origin: string, eventClass: EventClass, contiguous: number): number {
    const pair = this.pairs.get(pairKey(origin, eventClass))
    if (pair === undefined) return contiguous
    return this.advance(pair, contiguous)
  }

  /**
   * Forget the refusals of origins whose policy is not the one they were made under (an entry
   * added, widened or removed, the mode changed). Returns the origins forgotten.
   */
  reconcile (): string[] {
    const forgotten = new Set<string>()
    for (const [key, pair] of this.pairs) {
      if (pair.policy === this.components.policy(pair.origin)) continue
      forgotten.add(pair.origin)
      this.drop(key)
    }
    return [...forgotten]
  }

  summary (maxOrigins = MAX_REFUSAL_ORIGINS_SHOWN): RefusalSummary {
    const byOrigin = new Map<string, OriginRefusals & { at: number }>()
    const reasons: Record<string, number> = {}
    let sequences = 0
    for (const pair of this.pairs.values()) {
      let entry = byOrigin.get(pair.origin)
      if (entry === undefined) {
        entry = { origin: pair.origin, reasons: {}, classes: [], lastAt: '', at: 0 }
        byOrigin.set(pair.origin, entry)
      }
      entry.classes.push(pair.eventClass)
      for (const [reason, n] of Object.entries(pair.reasons)) {
        entry.reasons[reason] = (entry.reasons[reason] ?? 0) + n
        reasons[reason] = (reasons[reason] ?? 0) + n
        sequences += n
      }
      if (pair.lastAt >= entry.at) {
        entry.at = pair.lastAt
        if (pair.lastSource !== undefined) entry.lastSource = pair.lastSource
      }
    }
    const origins = [...byOrigin.values()]
      .sort((a, b) => b.at - a.at)
      .slice(0, maxOrigins)
      .map(({ at, ...rest }) => ({ ...rest, classes: rest.classes.sort(), lastAt: new Date(at).toISOString() }))
    return { sequences, reasons, originCount: byOrigin.size, origins }
  }

  /** Write what changed now (the node calls it before the store closes). */
  async flush (): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.flushing = this.flushing.then(async () => { await this.write() })
    await this.flushing
  }

  private async write (): Promise<void> {
    const { section } = this.components
    const deleted = [...this.deleted]
    const dirty = [...this.dirty]
    this.deleted.clear()
    this.dirty.clear()
    if (section === undefined) return
    try {
      for (const key of deleted) await section.del(key)
      for (const key of dirty) {
        const pair = this.pairs.get(key)
        if (pair !== undefined) await section.put(key, persisted(pair))
      }
    } catch (err) {
      // the store is closing or failing: the refusals stay in memory; at worst they are fetched again
      this.components.log?.warn({ err }, 'could not persist policy refusals; they may be fetched again after a restart')
    }
  }

  private advance (pair: PairRefusals, contiguous: number): number {
    let through = Math.max(pair.through, contiguous)
    for (;;) {
      const end = pair.refused.coverEnd(through + 1) ?? pair.held.coverEnd(through + 1)
      if (end === undefined) break
      through = end
    }
    if (through > pair.through) {
      pair.through = through
      pair.held.removeUpTo(through)
      this.markDirty(pairKey(pair.origin, pair.eventClass))
    }
    return through
  }

  private drop (key: string): void {
    this.pairs.delete(key)
    this.dirty.delete(key)
    this.deleted.add(key)
    this.schedule()
  }

  private evict (): void {
    while (this.pairs.size > this.maxPairs) {
      const oldest = this.pairs.keys().next().value
      if (oldest === undefined) break
      this.drop(oldest)
    }
  }

  private markDirty (key: string): void {
    this.dirty.add(key)
    this.schedule()
  }

  private schedule (): void {
    if (this.timer !== undefined || (this.dirty.size === 0 && this.deleted.size === 0)) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.flushing = this.flushing.then(async () => { await this.write() })
    }, this.flushMs)
    this.timer.unref()
  }
}

function persisted (pair: PairRefusals): PersistedRefusals {
  return {
    origin: pair.origin,
    eventClass: pair.eventClass,
    intervals: pair.refused.intervals().map(([a, b]) => [a, b]),
    reasons: { ...pair.reasons },
    through: pair.through,
    policy: pair.policy,
    ...(pair.lastSource === undefined ? {} : { lastSource: pair.lastSource }),
    lastAt: new Date(pair.lastAt).toISOString()
  }
}

function isPersisted (value: unknown): value is PersistedRefusals {
  if (value === null || typeof value !== 'object') return false
  const v = value as Partial<PersistedRefusals>
  return typeof v.origin === 'string' && typeof v.eventClass === 'string' && typeof v.policy === 'string' &&
    Number.isSafeInteger(v.through) && Array.isArray(v.intervals) &&
    v.intervals.every(i => Array.isArray(i) && Number.isSafeInteger(i[0]) && Number.isSafeInteger(i[1]) && i[0] >= 1 && i[1] >= i[0]) &&
    v.reasons !== null && typeof v.reasons === 'object' && typeof v.lastAt === 'string'
}
