import type { LevelDbActivity, Span } from './leveldb-log.js'
import { percentile, round } from './stats.js'

/** One publish: when it was sent (epoch ms) and how long until its 202. */
export interface TimedSend {
  at: number
  ms: number
}

/** What each store's background thread did during a window. */
export interface StoreWork {
  flushes: number
  compactions: number
  /** the longest compaction that overlapped the window, whole, ms */
  longestCompactionMs: number
  /** writes that logged waiting for the background thread */
  writeWaits: number
}

export interface LatencyWindow {
  /** minutes since the load began, at the window's start */
  minute: number
  sends: number
  p50: number
  p99: number
  max: number
  /** minutes since the load began when the slowest send of the window went out */
  maxSentAtMinute: number
  /** the soak's own readings (forced full collections on every node) that overlapped the window */
  readings: number
  byStore: Record<string, StoreWork>
}

function overlaps (span: Span, from: number, to: number): boolean {
  return span.start < to && span.end >= from
}

function storeWork (activity: LevelDbActivity, from: number, to: number): StoreWork {
  const compactions = activity.compactions.filter(c => overlaps(c, from, to))
  const inWindow = (at: number): boolean => at >= from && at < to
  return {
    flushes: activity.flushes.filter(f => overlaps(f, from, to)).length,
    compactions: compactions.length,
    longestCompactionMs: round(compactions.reduce((m, c) => Math.max(m, c.end - c.start), 0)),
    writeWaits: activity.memtableWaits.filter(inWindow).length + activity.level0Waits.filter(inWindow).length
  }
}

/**
 * Publish latency over consecutive windows of the load, by send time, beside what could stall a
 * publish in the same window: the soak's own forced collections, and each store's flushes,
 * compactions and waiting writes. Windows with no sends are left out.
 */
export function latencyWindows (sends: readonly TimedSend[], options: { start: number, windowMs: number, readings: readonly Span[], stores: Readonly<Record<string, LevelDbActivity>> }): LatencyWindow[] {
  const { start, windowMs, readings, stores } = options
  if (!(windowMs > 0)) throw new RangeError('windowMs must be positive')
  const byWindow = new Map<number, TimedSend[]>()
  for (const send of sends) {
    const index = Math.max(0, Math.floor((send.at - start) / windowMs))
    const list = byWindow.get(index)
    if (list === undefined) byWindow.set(index, [send])
    else list.push(send)
  }
  const minutes = (at: number): number => round((at - start) / 60_000, 2)
  return [...byWindow.entries()].sort(([a], [b]) => a - b).map(([index, list]) => {
    const from = start + index * windowMs
    const to = from + windowMs
    const sorted = list.map(s => s.ms).sort((a, b) => a - b)
    const slowest = list.reduce((worst, s) => s.ms > worst.ms ? s : worst)
    return {
      minute: minutes(from),
      sends: list.length,
      p50: round(percentile(sorted, 50)),
      p99: round(percentile(sorted, 99)),
      max: round(slowest.ms),
      maxSentAtMinute: minutes(slowest.at),
      readings: readings.filter(r => overlaps(r, from, to)).length,
      byStore: Object.fromEntries(Object.entries(stores).map(([name, activity]) => [name, storeWork(activity, from, to)]))
    }
  })
}
