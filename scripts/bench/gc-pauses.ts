import { constants } from 'node:perf_hooks'
import type { Span } from './stats.js'

/** How often gc-pause-probe.ts appends what it recorded: a reader waits this long for the last of it. */
export const GC_FLUSH_MS = 1000

/** One garbage collection's pause of a node's main thread, as gc-pause-probe.ts records it. */
export interface GcPause extends Span {
  /** a full (mark-compact) collection, as opposed to a scavenge, an incremental step or weak callbacks */
  major: boolean
}

/** The pauses in a `gc.<pid>.jsonl`; lines that are not the probe's (a torn last line) are skipped. */
export function parseGcPauses (text: string): GcPause[] {
  const pauses: GcPause[] = []
  for (const line of text.split('\n')) {
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      continue
    }
    if (!Array.isArray(value) || value.length !== 3 || !value.every(n => typeof n === 'number' && Number.isFinite(n))) continue
    const [start, duration, kind] = value as [number, number, number]
    if (duration < 0) continue
    pauses.push({ start, end: start + duration, major: kind === constants.NODE_PERFORMANCE_GC_MAJOR })
  }
  return pauses
}
