import { appendFileSync } from 'node:fs'
import path from 'node:path'
import { PerformanceObserver, performance } from 'node:perf_hooks'
import type { PerformanceEntry } from 'node:perf_hooks'
import { GC_FLUSH_MS } from './gc-pauses.js'

/**
 * Preloaded into a node process (`node --import <this file> bin/cdgossip.js start`) by `soak`:
 * records every garbage collection's pause of the main thread, as Node.js reports it (start,
 * duration, kind), and appends them once a second to `gc.<pid>.jsonl` in CDGOSSIP_GC_DIR, one
 * `[start (epoch ms), duration (ms), kind]` per line. The soak lines them up with the publish
 * latency it measured. Without CDGOSSIP_GC_DIR it does nothing. Bench tooling only: nothing in
 * src/ loads it.
 */

const dir = process.env.CDGOSSIP_GC_DIR
if (dir !== undefined && dir !== '') {
  const file = path.join(dir, `gc.${process.pid}.jsonl`)
  let lines: string[] = []
  const flush = (): void => {
    if (lines.length === 0) return
    appendFileSync(file, lines.join(''))
    lines = []
  }
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0
      lines.push(`${JSON.stringify([performance.timeOrigin + entry.startTime, entry.duration, kind])}\n`)
    }
  }).observe({ entryTypes: ['gc'] })
  setInterval(flush, GC_FLUSH_MS).unref()
  process.on('exit', flush)
}
