import type { GcPause } from './gc-pauses.js'
import type { LevelDbActivity } from './leveldb-log.js'
import { round, summarize } from './stats.js'
import type { Span } from './stats.js'

/** One publish: when it was sent (epoch ms) and how long until its 202. */
export interface TimedSend {
  at: number
  ms: number
}

/** What a node did that can hold up a publish: its store's background work and its collections. */
export interface NodeActivity {
  store: LevelDbActivity
  gc: readonly GcPause[]
}

/** A node's share of a window. */
export interface NodeWork {
  flushes: number
  compactions: number
  /** the longest compaction that overlapped the window, whole, ms */
  longestCompactionMs: number
  /** writes that logged waiting for the store's background thread */
  writeWaits: number
  /** the main thread's garbage-collection pauses that began in the window: their sum and the longest, ms */
  gcPauseMs: number
  longestGcPauseMs: number
  majorGcs: number
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
  byNode: Record<string, NodeWork>
  /**
   * Sends slower than `slowMs`, and how many of them were in flight while the publishing node
   * paused for a collection of at least LONG_PAUSE_MS, or while its store compacted.
   */
  slow: { sends: number, duringLongGcPause: number, duringCompaction: number }
}

/** A pause this long holds up everything queued behind it noticeably; the scavenges below it do not. */
export const LONG_PAUSE_MS = 10

function overlaps (span: Span, from: number, to: number): boolean {
  return span.start < to && span.end >= from
}

function nodeWork (activity: NodeActivity, from: number, to: number): NodeWork {
  const { store, gc } = activity
  const compactions = store.compactions.filter(c => overlaps(c, from, to))
  const inWindow = (at: number): boolean => at >= from && at < to
  const pauses = gc.filter(p => inWindow(p.start))
  return {
    flushes: store.flushes.filter(f => overlaps(f, from, to)).length,
    compactions: compactions.length,
    longestCompactionMs: round(compactions.reduce((m, c) => Math.max(m, c.end - c.start), 0)),
    writeWaits: store.memtableWaits.filter(inWindow).length + store.level0Waits.filter(inWindow).length,
    gcPauseMs: round(pauses.reduce((s, p) => s + p.end - p.start, 0)),
    longestGcPauseMs: round(pauses.reduce((m, p) => Math.max(m, p.end - p.start), 0)),
    majorGcs: pauses.filter(p => p.major).length
  }
}

/**
 * Publish latency over consecutive windows of the load, by send time, beside what could stall a
 * publish in the same window: the soak's own forced collections, and each node's store work and
 * collections. Windows with no sends are left out.
 */
export function latencyWindows (sends: readonly TimedSend[], options: { start: number, windowMs: number, readings: readonly Span[], nodes: Readonly<Record<string, NodeActivity>>, publisher: string, slowMs: number }): LatencyWindow[] {
  const { start, windowMs, readings, nodes, publisher, slowMs } = options
  if (!(windowMs > 0)) throw new RangeError('windowMs must be positive')
  const byWindow = new Map<number, TimedSend[]>()
  for (const send of sends) {
    const index = Math.max(0, Math.floor((send.at - start) / windowMs))
    const list = byWindow.get(index)
    if (list === undefined) byWindow.set(index, [send])
    else list.push(send)
  }
  const longPauses = (nodes[publisher]?.gc ?? []).filter(p => p.end - p.start >= LONG_PAUSE_MS)
  const compactions = nodes[publisher]?.store.compactions ?? []
  const minutes = (at: number): number => round((at - start) / 60_000, 2)
  return [...byWindow.entries()].sort(([a], [b]) => a - b).map(([index, list]) => {
    const from = start + index * windowMs
    const to = from + windowMs
    const { p50, p99 } = summarize(list.map(s => s.ms))
    const slowest = list.reduce((worst, s) => s.ms > worst.ms ? s : worst)
    const slow = list.filter(s => s.ms > slowMs)
    const during = (spans: readonly Span[]): number => slow.filter(s => spans.some(p => overlaps(p, s.at, s.at + s.ms))).length
    return {
      minute: minutes(from),
      sends: list.length,
      p50,
      p99,
      max: round(slowest.ms),
      maxSentAtMinute: minutes(slowest.at),
      readings: readings.filter(r => overlaps(r, from, to)).length,
      byNode: Object.fromEntries(Object.entries(nodes).map(([name, activity]) => [name, nodeWork(activity, from, to)])),
      slow: { sends: slow.length, duringLongGcPause: during(longPauses), duringCompaction: during(compactions) }
    }
  })
}
