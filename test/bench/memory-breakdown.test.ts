import { describe, expect, it } from 'vitest'
import { parseMemoryMetrics } from '../../scripts/bench/memory-breakdown.js'

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
