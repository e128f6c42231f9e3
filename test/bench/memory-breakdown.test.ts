import { describe, expect, it } from 'vitest'
import { bytesPerThousandEvents, growthSlope, parseLiveReading, parseMemoryMetrics } from '../../scripts/bench/memory-breakdown.js'
import type { LiveMemory } from '../../scripts/bench/memory-breakdown.js'

const MIB = 1024 * 1024

describe('parseMemoryMetrics', () => {
  it('splits the resident set into V8 heap, external and the native rest', () => {
    const text = [
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${200 * MIB}`,
      `nodejs_heap_size_total_bytes ${90 * MIB}`,
      `nodejs_heap_size_used_bytes ${60 * MIB}`,
      `nodejs_external_memory_bytes ${10 * MIB}`,
      `nodejs_heap_space_size_total_bytes{space="new"} ${32 * MIB}`,
      `nodejs_heap_space_size_total_bytes{space="old"} ${50 * MIB}`,
      `nodejs_heap_space_size_total_bytes{space="new_large_object"} ${1 * MIB}`
    ].join('\n')
    expect(parseMemoryMetrics(text)).toEqual({
      rssMiB: 200, heapTotalMiB: 90, heapUsedMiB: 60, newSpaceMiB: 32, oldSpaceMiB: 50, externalMiB: 10, otherMiB: 100
    })
  })

  it('has no breakdown without the process metrics', () => {
    expect(parseMemoryMetrics('cdgossip_events_stored_total 5\n')).toBeUndefined()
  })
})

describe('parseLiveReading', () => {
  it('reads what live-heap-probe writes, in MiB', () => {
    const text = JSON.stringify({ reading: 3, heapUsed: 40 * MIB, heapTotal: 60 * MIB, rss: 150 * MIB, external: 8 * MIB })
    expect(parseLiveReading(text)).toEqual({ reading: 3, liveHeapMiB: 40, heapTotalMiB: 60, rssMiB: 150, externalMiB: 8, otherMiB: 82 })
  })

  it('keeps how long the collections took, when the probe says', () => {
    const text = JSON.stringify({ reading: 2, collectMs: 123.456, heapUsed: 40 * MIB, heapTotal: 60 * MIB, rss: 150 * MIB, external: 8 * MIB })
    expect(parseLiveReading(text)?.collectMs).toBe(123.46)
  })

  it('splits the resident set where Linux does', () => {
    const text = JSON.stringify({ reading: 1, heapUsed: 40 * MIB, heapTotal: 60 * MIB, rss: 150 * MIB, external: 8 * MIB, rssAnon: 100 * MIB, rssFile: 50 * MIB })
    expect(parseLiveReading(text)).toMatchObject({ rssAnonMiB: 100, rssFileMiB: 50 })
  })

  it('has no reading for a missing, partial or foreign file', () => {
    expect(parseLiveReading(undefined)).toBeUndefined()
    expect(parseLiveReading('{"reading":1,"heapUs')).toBeUndefined()
    expect(parseLiveReading('null')).toBeUndefined()
    expect(parseLiveReading(JSON.stringify({ reading: 1, heapUsed: '40', heapTotal: 1, rss: 1, external: 1 }))).toBeUndefined()
    expect(parseLiveReading(JSON.stringify({ reading: 1, heapUsed: -1, heapTotal: 1, rss: 1, external: 1 }))).toBeUndefined()
    expect(parseLiveReading(JSON.stringify({ reading: 1, heapUsed: 1, rss: 1, external: 1 }))).toBeUndefined()
  })
})

describe('live heap growth', () => {
  const at = (liveHeapMiB: number): LiveMemory => ({ reading: 1, liveHeapMiB, heapTotalMiB: 0, rssMiB: 0, externalMiB: 0, otherMiB: 0 })

  it('is the difference of two readings per 1,000 events', () => {
    expect(bytesPerThousandEvents(at(40), at(41), 1024 * 1024)).toBe(1000)
    expect(bytesPerThousandEvents(at(41), at(40), 1024)).toBe(-1024 * 1000)
    expect(() => bytesPerThousandEvents(at(40), at(41), 0)).toThrow(RangeError)
  })

  it('has a least-squares slope over several readings', () => {
    const points = [
      { events: 0, liveHeapMiB: 40.2 },
      { events: 100_000, liveHeapMiB: 40.8 },
      { events: 200_000, liveHeapMiB: 42.2 },
      { events: 300_000, liveHeapMiB: 42.8 }
    ]
    // the fitted line rises 0.92 MiB per 100,000 events (rounding may land on either side)
    expect(growthSlope(points)).toBeCloseTo(0.92 * MIB / 100, -1)
    expect(growthSlope([{ events: 5, liveHeapMiB: 40 }, { events: 10, liveHeapMiB: 40 }])).toBe(0)
  })

  it('has no slope from one reading or from readings at one event count', () => {
    expect(growthSlope([{ events: 5, liveHeapMiB: 40 }])).toBeUndefined()
    expect(growthSlope([{ events: 5, liveHeapMiB: 40 }, { events: 5, liveHeapMiB: 41 }])).toBeUndefined()
  })
})
