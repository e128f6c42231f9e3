import { summaryHour } from './keys.js'
import type { QueryFilter } from './query-language.js'

/**
 * The arrival summary, pure: for each hour of event time (summaryHour), the arrival counters of
 * the first and the last record stored with a time in it. No record with an event time at or
 * after `since` arrived before the smallest `first` of the hours from since's on, and none at or
 * before `until` after the largest `last` up to until's hour, so a since/until scan in arrival
 * order runs between those two instead of over the whole store. One entry per hour (a year of
 * history is ~8,800; whatever times events claim, at most the ~1.1M hours of 1970-2100),
 * rewritten once per write that touches the hour. The store keeps it in memory and persists it
 * in the `hour-span` sublevel, in the same batch as the records it describes.
 */

/** Arrival counters of the first and the last record stored with an event time in one hour. */
export interface HourSpan { first: number, last: number }

/** hour of event time → its span */
export type ArrivalSummary = Map<number, HourSpan>

/** Where in the arrival order records of a since/until window can be (both ends inclusive). */
export interface ArrivalWindow { first?: number, last?: number }

export function encodeHourSpan (span: HourSpan): string {
  return `${span.first}:${span.last}`
}

/** The span a persisted value holds; undefined when it has the wrong shape. */
export function decodeHourSpan (value: string): HourSpan | undefined {
  const [first, last] = value.split(':').map(Number)
  if (first === undefined || last === undefined || !Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 1 || last < first) return undefined
  return { first, last }
}

/**
 * Records that the record with arrival `counter` has event time `timeMs`. Records come in
 * arrival order; `touched` collects the new span of each hour a write touches (the caller
 * persists each once, then folds them into `summary`), an hour's `first` staying what `summary`
 * already says.
 */
export function noteArrival (touched: ArrivalSummary, summary: ReadonlyMap<number, HourSpan>, timeMs: number, counter: number): void {
  const hour = summaryHour(timeMs)
  const span = touched.get(hour)
  if (span !== undefined) span.last = counter
  else touched.set(hour, { first: summary.get(hour)?.first ?? counter, last: counter })
}

/**
 * Where in the arrival order records of the filter's since/until window can be, from the arrival
 * summary of the hours the window touches: at or after `first`, at or before `last`. Undefined
 * when no record held has an event time inside the window; `{}` when there is no window.
 */
export function windowArrivals (summary: ReadonlyMap<number, HourSpan>, f: Pick<QueryFilter, 'sinceMs' | 'untilMs'>): ArrivalWindow | undefined {
  if (f.sinceMs === undefined && f.untilMs === undefined) return {}
  const from = f.sinceMs === undefined ? 0 : summaryHour(f.sinceMs)
  const to = f.untilMs === undefined ? Number.POSITIVE_INFINITY : summaryHour(f.untilMs)
  let first = Number.POSITIVE_INFINITY
  let last = 0
  for (const [hour, span] of summary) {
    if (hour < from || hour > to) continue
    if (span.first < first) first = span.first
    if (span.last > last) last = span.last
  }
  return last === 0 ? undefined : { first, last }
}
