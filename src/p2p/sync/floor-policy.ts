import type { SequenceState } from '../../events/records.js'
import type { SyncStartPoint } from './types.js'

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
