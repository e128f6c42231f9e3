import { IntervalSet, type Interval } from '../p2p/sync/index.js'
import { isSubscriptionId } from '../subscriptions/index.js'
import type { StateSection } from '../contracts/state-section.js'
import type { SignedEvent } from '../events/types.js'

/** Subscriptions whose progress a heartbeat carries; more are not taken from a sibling. */
export const MAX_SHARED_SUBSCRIPTIONS = 1000
/** (origin, class) pairs per subscription; more are not taken from a sibling. */
export const MAX_SHARED_PAIRS = 4096
/** Intervals per pair; a sibling's longer list is not taken. */
export const MAX_SHARED_INTERVALS = 4096

/** Per subscription, per `origin class`: the sequences handled, as closed intervals. */
export type DeliveredWire = Record<string, Record<string, Interval[]>>

/**
 * What a community's sink lease holders have handled (delivered, dead-lettered or passed over as
 * not matching), per subscription, as per-(origin, class) sequence intervals: the same record has
 * the same (origin, class, sequence) on every node, while arrival cursors are each node's own.
 * A node that takes the lease over skips what is here, so a quiet takeover delivers nothing twice.
 * Kept in a state section so a restart still knows what its siblings did.
 */
export class DeliveredSets {
  private readonly section: StateSection<DeliveredWire[string]>
  private readonly sets = new Map<string, Map<string, IntervalSet>>()
  private readonly dirty = new Set<string>()
  private listener: (() => void) | undefined

  constructor (section: StateSection<DeliveredWire[string]>) {
    this.section = section
  }

  async load (): Promise<void> {
    for await (const [subscriptionId, pairs] of this.section.entries()) this.merge({ [subscriptionId]: pairs })
    this.dirty.clear()
  }

  /** This node handled `event` for the subscription. */
  handled (subscriptionId: string, event: Pick<SignedEvent, 'origin' | 'eventClass' | 'sequence'>): void {
    this.pairSet(subscriptionId, pairKey(event.origin, event.eventClass))?.add(event.sequence)
    this.dirty.add(subscriptionId)
    this.listener?.()
  }

  /** Told after each handled record (the community side tells the siblings soon after). */
  onHandled (listener: () => void): void {
    this.listener = listener
  }

  /** Whether some node of the community (this one included) handled `event` for the subscription. */
  has (subscriptionId: string, event: Pick<SignedEvent, 'origin' | 'eventClass' | 'sequence'>): boolean {
    return this.sets.get(subscriptionId)?.get(pairKey(event.origin, event.eventClass))?.has(event.sequence) === true
  }

  /** Takes what a sibling announced; anything malformed or over the bounds is left out. */
  merge (wire: unknown): void {
    if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) return
    for (const [subscriptionId, pairs] of Object.entries(wire).slice(0, MAX_SHARED_SUBSCRIPTIONS)) {
      if (!isSubscriptionId(subscriptionId) || typeof pairs !== 'object' || pairs === null || Array.isArray(pairs)) continue
      for (const [key, intervals] of Object.entries(pairs as Record<string, unknown>).slice(0, MAX_SHARED_PAIRS)) {
        if (!Array.isArray(intervals) || intervals.length > MAX_SHARED_INTERVALS || !intervals.every(isInterval)) continue
        const set = this.pairSet(subscriptionId, key)
        if (set === undefined) continue
        for (const [from, to] of intervals as Interval[]) set.add(from, to)
        this.dirty.add(subscriptionId)
      }
    }
  }

  /** Everything known handled, for a heartbeat (siblings learn transitively what others did). */
  toWire (): DeliveredWire {
    const wire: DeliveredWire = {}
    for (const [subscriptionId, pairs] of this.sets) wire[subscriptionId] = pairsWire(pairs)
    return wire
  }

  /** Per subscription, how many records some node of the community handled: how far a standby node could take over. */
  counts (): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const [subscriptionId, pairs] of this.sets) {
      let n = 0
      for (const set of pairs.values()) n += set.size
      counts[subscriptionId] = n
    }
    return counts
  }

  /** A deleted subscription's progress goes with it. */
  async forget (subscriptionId: string): Promise<void> {
    this.sets.delete(subscriptionId)
    this.dirty.delete(subscriptionId)
    await this.section.del(subscriptionId)
  }

  /** Writes the subscriptions changed since the last save. */
  async save (): Promise<void> {
    const changed = [...this.dirty]
    this.dirty.clear()
    for (const subscriptionId of changed) {
      const pairs = this.sets.get(subscriptionId)
      if (pairs !== undefined) await this.section.put(subscriptionId, pairsWire(pairs))
    }
  }

  private pairSet (subscriptionId: string, key: string): IntervalSet | undefined {
    let pairs = this.sets.get(subscriptionId)
    if (pairs === undefined) {
      if (this.sets.size >= MAX_SHARED_SUBSCRIPTIONS) return undefined
      pairs = new Map()
      this.sets.set(subscriptionId, pairs)
    }
    let set = pairs.get(key)
    if (set === undefined) {
      if (pairs.size >= MAX_SHARED_PAIRS) return undefined
      set = new IntervalSet()
      pairs.set(key, set)
    }
    return set
  }
}

function pairKey (origin: string, eventClass: string): string {
  return `${origin} ${eventClass}`
}

function pairsWire (pairs: Map<string, IntervalSet>): Record<string, Interval[]> {
  return Object.fromEntries([...pairs].map(([key, set]) => [key, set.intervals()]))
}

function isInterval (value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && Number.isSafeInteger(value[1]) &&
    (value[0] as number) >= 1 && (value[0] as number) <= (value[1] as number)
}
