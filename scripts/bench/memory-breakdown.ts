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
