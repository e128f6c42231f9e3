import type { HttpClient } from './http-load.js'
import { round } from './stats.js'

/**
 * Where a node's memory goes, from its own GET /metrics (prom-client's process metrics): the
 * main thread's V8 heap (young and old generations), memory outside it that V8 tracks (Buffers,
 * LevelDB values on their way in or out), and the rest of the resident set: native memory V8
 * does not see (LevelDB's memtables and block cache, the verify workers' own heaps, code).
 */
export interface MemoryBreakdown {
  rssMiB: number
  /** V8 heap of the main thread, all spaces */
  heapTotalMiB: number
  heapUsedMiB: number
  /** the young generation (semi-spaces): grows with allocation rate */
  newSpaceMiB: number
  oldSpaceMiB: number
  /** ArrayBuffers and other memory V8 tracks outside its heap */
  externalMiB: number
  /** RSS − heap − external: native allocations, worker threads, code */
  otherMiB: number
}

const MIB = 1024 * 1024

/** One metric's value from Prometheus text (`name{labels} value`), or undefined. */
function metric (text: string, name: string, labels = ''): number | undefined {
  const escaped = `${name}${labels}`.replace(/[{}"\\[\]().*+?^$|]/g, '\\$&')
  const match = new RegExp(`^${escaped}\\s+([0-9.eE+-]+)\\s*$`, 'm').exec(text)
  return match === null ? undefined : Number(match[1])
}

/** The breakdown from a metrics scrape; undefined when the process metrics are missing. */
export function parseMemoryMetrics (text: string): MemoryBreakdown | undefined {
  const rss = metric(text, 'process_resident_memory_bytes')
  const heapTotal = metric(text, 'nodejs_heap_size_total_bytes')
  const heapUsed = metric(text, 'nodejs_heap_size_used_bytes')
  const external = metric(text, 'nodejs_external_memory_bytes')
  if (rss === undefined || heapTotal === undefined || heapUsed === undefined || external === undefined) return undefined
  const space = (s: string): number => metric(text, 'nodejs_heap_space_size_total_bytes', `{space="${s}"}`) ?? 0
  const mib = (bytes: number): number => round(bytes / MIB, 1)
  return {
    rssMiB: mib(rss),
    heapTotalMiB: mib(heapTotal),
    heapUsedMiB: mib(heapUsed),
    newSpaceMiB: mib(space('new')),
    oldSpaceMiB: mib(space('old')),
    externalMiB: mib(external),
    otherMiB: mib(Math.max(0, rss - heapTotal - external))
  }
}

export async function memoryBreakdownOf (client: HttpClient): Promise<MemoryBreakdown | undefined> {
  const res = await client.request('GET', '/metrics')
  return res.status === 200 ? parseMemoryMetrics(res.text) : undefined
}

export function describeBreakdown (name: string, m: MemoryBreakdown | undefined): string {
  if (m === undefined) return `${name} ?`
  return `${name}: RSS ${m.rssMiB} MiB = V8 heap ${m.heapTotalMiB} (young ${m.newSpaceMiB}, old ${m.oldSpaceMiB}, used ${m.heapUsedMiB}) + external ${m.externalMiB} + native/workers/code ${m.otherMiB}`
}

/** A node's memory right after full garbage collections (live-heap-probe.ts): what it keeps. */
export interface LiveMemory {
  /** which SIGUSR2 this answers, counted from 1 */
  reading: number
  /** how long the forced collections held the node's main thread, ms */
  collectMs?: number
  liveHeapMiB: number
  /** the heap V8 keeps committed after those collections */
  heapTotalMiB: number
  rssMiB: number
  externalMiB: number
  /** RSS − heap total − external: native allocations (LevelDB's caches and memtables, malloc), workers, code */
  otherMiB: number
  /** Linux: the resident set's anonymous memory, and its pages of mapped files (LevelDB's tables, the binary) */
  rssAnonMiB?: number
  rssFileMiB?: number
}

/** A `live.<pid>.json` the probe wrote, or undefined when it is not one (absent, partial, other shape). */
export function parseLiveReading (text: string | undefined): LiveMemory | undefined {
  if (text === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null) return undefined
  const { reading, collectMs, heapUsed, heapTotal, rss, external, rssAnon, rssFile } = value as Record<string, unknown>
  const numbers = [reading, heapUsed, heapTotal, rss, external]
  if (!numbers.every(n => typeof n === 'number' && Number.isFinite(n) && n >= 0)) return undefined
  const [r, used, total, resident, ext] = numbers as number[]
  const mib = (bytes: number): number => round(bytes / MIB, 1)
  return {
    reading: r as number,
    ...(typeof collectMs === 'number' && Number.isFinite(collectMs) ? { collectMs: round(collectMs) } : {}),
    liveHeapMiB: mib(used as number),
    heapTotalMiB: mib(total as number),
    rssMiB: mib(resident as number),
    externalMiB: mib(ext as number),
    otherMiB: mib(Math.max(0, (resident as number) - (total as number) - (ext as number))),
    ...(typeof rssAnon === 'number' && typeof rssFile === 'number' ? { rssAnonMiB: mib(rssAnon), rssFileMiB: mib(rssFile) } : {})
  }
}

/** Growth of the live heap between two readings, in bytes per 1,000 events stored. */
export function bytesPerThousandEvents (before: LiveMemory, after: LiveMemory, events: number): number {
  if (events <= 0) throw new RangeError('events must be positive')
  return Math.round((after.liveHeapMiB - before.liveHeapMiB) * MIB / events * 1000)
}

/**
 * The least-squares slope of the live heap against events stored, in bytes per 1,000 events;
 * undefined with fewer than two points or no spread in events.
 */
export function growthSlope (points: ReadonlyArray<{ events: number, liveHeapMiB: number }>): number | undefined {
  if (points.length < 2) return undefined
  const meanX = points.reduce((s, p) => s + p.events, 0) / points.length
  const meanY = points.reduce((s, p) => s + p.liveHeapMiB, 0) / points.length
  let sxy = 0
  let sxx = 0
  for (const p of points) {
    sxy += (p.events - meanX) * (p.liveHeapMiB - meanY)
    sxx += (p.events - meanX) ** 2
  }
  return sxx === 0 ? undefined : Math.round(sxy / sxx * MIB * 1000)
}
