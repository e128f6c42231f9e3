import { IntervalSet } from './intervals.js'
import type { Interval } from './intervals.js'
import type { RefusedSequences } from './refusal-ledger.js'
import type { EventClass } from '../../events/types.js'

/** (origin, class) pairs with in-flight, settled or gap state kept in memory. */
export const MAX_TRACKED_PAIRS = 10_000
/** Intervals per pair set; a set that fragments beyond this is dropped (costs refetching, not records). */
export const MAX_PAIR_INTERVALS = 4_096
/**
 * Rounds a gap may stay open before the node is told (and warns): a gap is normally filled by the
 * grace-period repair or the next round; one that outlives three rounds means no connected peer
 * holds those records.
 */
export const STALE_GAP_ROUNDS = 3

export interface PairState {
  /** sequences claimed by a running request */
  readonly inflight: IntervalSet
  /** sequences above contiguous handled already (stored, duplicate, refused); forgotten after settledTtlMs */
  readonly settled: IntervalSet
  settledSince: number
  /** sequences asked for through requestGap and not supplied yet */
  readonly gaps: IntervalSet
  /** floor decided in this process, so concurrent sessions agree before setFloor persists it */
  floor?: number
  /** the round counter when `gaps` last went from empty to non-empty */
  gapRound?: number
}

/** A gap that outlived STALE_GAP_ROUNDS rounds. */
export interface StaleGap {
  origin: string
  eventClass: EventClass
  missing: number
  rounds: number
}

export function pairKey (origin: string, eventClass: EventClass): string {
  return `${origin}\n${eventClass}`
}

function splitKey (key: string): [string, EventClass] {
  const cut = key.indexOf('\n')
  return [key.slice(0, cut), key.slice(cut + 1)]
}

/**
 * What sync remembers per (origin, class) pair, in memory and bounded: what is in flight, what
 * was handled already (so concurrent sessions and later rounds do not ask again), and the gaps the
 * node asked for; sequences this node refused by policy are known, never gaps.
 */
export class PairTable {
  private readonly pairs = new Map<string, PairState>()
  private readonly refusals: RefusedSequences | undefined
  private readonly settledTtlMs: number

  constructor (components: { refusals?: RefusedSequences }, init: { settledTtlMs: number }) {
    this.refusals = components.refusals
    this.settledTtlMs = init.settledTtlMs
  }

  get (origin: string, eventClass: EventClass): PairState {
    const key = pairKey(origin, eventClass)
    let pair = this.pairs.get(key)
    if (pair === undefined) {
      pair = { inflight: new IntervalSet(), settled: new IntervalSet(), settledSince: 0, gaps: new IntervalSet() }
      this.pairs.set(key, pair)
      this.evict()
    }
    return pair
  }

  /** Forgets what was settled for these origins' pairs (their policy changed). */
  forgetSettled (origins: ReadonlySet<string>): void {
    for (const [key, pair] of this.pairs) {
      if (origins.has(splitKey(key)[0])) pair.settled.clear()
    }
  }

  /** Records from..to as missing (requestGap), unless the set is too fragmented; `round` ages the gap. */
  addGap (origin: string, eventClass: EventClass, pair: PairState, from: number, to: number, round: number): void {
    if (pair.gaps.intervalCount >= MAX_PAIR_INTERVALS) return
    if (pair.gaps.isEmpty()) pair.gapRound = round
    pair.gaps.add(from, to)
    // refused by this node's policy: known, not missing
    for (const [a, b] of this.refusedIntervals(origin, eventClass)) pair.gaps.remove(a, b)
  }

  /** Sequences still missing over every pair (refused ones dropped first). */
  gapCount (): number {
    let gaps = 0
    for (const [key, pair] of this.pairs) {
      if (pair.gaps.isEmpty()) continue
      this.dropRefusedGaps(key, pair)
      gaps += pair.gaps.size
    }
    return gaps
  }

  /** Pairs whose gap outlived STALE_GAP_ROUNDS rounds at round `round`: no peer we reach holds those records. */
  staleGaps (round: number): StaleGap[] {
    const stale: StaleGap[] = []
    for (const [key, pair] of this.pairs) {
      if (pair.gaps.isEmpty()) continue
      this.dropRefusedGaps(key, pair)
      if (pair.gaps.isEmpty()) continue
      pair.gapRound ??= round
      const age = round - pair.gapRound
      if (age < STALE_GAP_ROUNDS) continue
      const [origin, eventClass] = splitKey(key)
      stale.push({ origin, eventClass, missing: pair.gaps.size, rounds: age })
    }
    return stale
  }

  /** The sequences of a pair this node refused by policy, as a set to skip. */
  refusedSet (origin: string, eventClass: EventClass): IntervalSet {
    const set = new IntervalSet()
    for (const [a, b] of this.refusedIntervals(origin, eventClass)) set.add(a, b)
    return set
  }

  settle (pair: PairState, from: number, to: number): void {
    if (pair.settled.isEmpty()) pair.settledSince = Date.now()
    pair.settled.add(from, to)
    if (pair.settled.intervalCount > MAX_PAIR_INTERVALS) pair.settled.clear()
  }

  expireSettled (pair: PairState): void {
    if (!pair.settled.isEmpty() && Date.now() - pair.settledSince > this.settledTtlMs) pair.settled.clear()
  }

  private refusedIntervals (origin: string, eventClass: EventClass): readonly Interval[] {
    return this.refusals?.intervals(origin, eventClass) ?? []
  }

  private dropRefusedGaps (key: string, pair: PairState): void {
    const [origin, eventClass] = splitKey(key)
    for (const [a, b] of this.refusedIntervals(origin, eventClass)) pair.gaps.remove(a, b)
  }

  private evict (): void {
    if (this.pairs.size <= MAX_TRACKED_PAIRS) return
    for (const [key, pair] of this.pairs) {
      if (this.pairs.size <= MAX_TRACKED_PAIRS) break
      if (pair.inflight.isEmpty() && pair.gaps.isEmpty()) this.pairs.delete(key)
    }
  }
}
