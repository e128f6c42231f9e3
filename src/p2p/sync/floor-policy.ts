import type { SequenceState } from '../../events/records.js'
import type { EventClass } from '../../events/types.js'
import type { PairState } from './pair-table.js'
import type { SyncComponents, SyncStartPoint } from './types.js'

/**
 * The floor sync picks for an (origin, class) pair the node has no floor for yet: sync fetches only
 * sequences above it.
 *
 * - `beginning`: 0, fetch everything.
 * - `now`, nothing held locally: the highest sequence the peer announces. Everything that exists
 *   when the node first learns of the pair is history; everything after is fetched, gaps included.
 * - `now`, sequence 1 held (contiguous > 0): the pair was followed from its start, so 0.
 * - `now`, records held but not sequence 1: they arrived live before sync met the pair; the
 *   earliest of them is unknown here, so the floor sits just below the highest held. Gaps below it
 *   are the node's gap requests' job (the node should set the floor itself on the first live record).
 */
export function initialFloor (start: SyncStartPoint, local: Pick<SequenceState, 'highest' | 'contiguous'> | undefined, peerHighest: number): number {
  if (start === 'beginning') return 0
  const highest = local?.highest ?? 0
  const contiguous = local?.contiguous ?? 0
  if (highest === 0) return peerHighest
  if (contiguous > 0) return 0
  return highest - 1
}

/** A pair's floor: the node's when it keeps them, else the one fixed in this process; fixed once. */
export class PairFloors {
  constructor (private readonly components: Pick<SyncComponents, 'floor' | 'setFloor' | 'startPoint'>) {}

  async resolve (origin: string, eventClass: EventClass, pair: PairState, local: SequenceState | undefined, peerHighest: number): Promise<number> {
    const known = await this.known(origin, eventClass, pair)
    if (known !== undefined) return known
    return await this.fix(origin, eventClass, pair, initialFloor(this.startPoint(eventClass), local, peerHighest))
  }

  /** The node's floor when it keeps them (it may reset them), else the one fixed in this process. */
  async known (origin: string, eventClass: EventClass, pair: PairState): Promise<number | undefined> {
    if (this.components.floor !== undefined) {
      const stored = await this.components.floor(origin, eventClass)
      if (stored !== undefined && Number.isSafeInteger(stored) && stored >= 0) return stored
    }
    return pair.floor
  }

  async fix (origin: string, eventClass: EventClass, pair: PairState, chosen: number): Promise<number> {
    // a concurrent session may have fixed one while we awaited
    if (pair.floor !== undefined) return pair.floor
    pair.floor = chosen
    await this.components.setFloor?.(origin, eventClass, chosen)
    return chosen
  }

  startPoint (eventClass: EventClass): SyncStartPoint {
    return this.components.startPoint?.(eventClass) ?? 'now'
  }
}
