import { constants } from 'node:perf_hooks'
import { describe, expect, it } from 'vitest'
import { parseGcPauses } from '../../scripts/bench/gc-pauses.js'

describe('parseGcPauses', () => {
  it('reads the probe\'s lines into pauses and tells full collections from the rest', () => {
    const text = [
      JSON.stringify([1000.5, 2.25, constants.NODE_PERFORMANCE_GC_MINOR]),
      JSON.stringify([2000, 40, constants.NODE_PERFORMANCE_GC_MAJOR]),
      JSON.stringify([3000, 1, constants.NODE_PERFORMANCE_GC_INCREMENTAL]),
      ''
    ].join('\n')
    expect(parseGcPauses(text)).toEqual([
      { start: 1000.5, end: 1002.75, major: false },
      { start: 2000, end: 2040, major: true },
      { start: 3000, end: 3001, major: false }
    ])
  })

  it('skips a torn last line and anything that is not a pause', () => {
    const text = `${JSON.stringify([1000, 2, 1])}\n[2000, 4\n{"a":1}\n[3000, -1, 1]\n["x", 1, 1]`
    expect(parseGcPauses(text)).toEqual([{ start: 1000, end: 1002, major: false }])
  })
})
