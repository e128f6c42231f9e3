import { describe, expect, it } from 'vitest'
import { latencyWindows } from '../../scripts/bench/latency-windows.js'
import type { LevelDbActivity } from '../../scripts/bench/leveldb-log.js'

const START = 1_000_000
const idle: LevelDbActivity = { flushes: [], compactions: [], memtableWaits: [], level0Waits: [] }

describe('latencyWindows', () => {
  it('summarizes each window by send time and says where its slowest send went out', () => {
    const sends = [
      ...Array.from({ length: 100 }, (_, i) => ({ at: START + i * 100, ms: 2 })),
      { at: START + 30_000, ms: 900 },
      ...Array.from({ length: 10 }, (_, i) => ({ at: START + 60_000 + i * 100, ms: 5 }))
    ]
    const windows = latencyWindows(sends, { start: START, windowMs: 60_000, readings: [], stores: {} })
    expect(windows.map(w => [w.minute, w.sends, w.p50, w.max, w.maxSentAtMinute])).toEqual([[0, 101, 2, 900, 0.5], [1, 10, 5, 5, 1]])
  })

  it('counts the readings and the store work that overlap each window', () => {
    const sends = [{ at: START + 1_000, ms: 3 }, { at: START + 61_000, ms: 3 }]
    const store: LevelDbActivity = {
      ...idle,
      flushes: [{ start: START + 10_000, end: START + 10_050 }],
      // runs across the boundary: both windows see it, whole
      compactions: [{ start: START + 59_000, end: START + 61_500 }],
      memtableWaits: [START + 60_500],
      level0Waits: []
    }
    const windows = latencyWindows(sends, { start: START, windowMs: 60_000, readings: [{ start: START + 70_000, end: START + 70_300 }], stores: { A: store, B: idle } })
    expect(windows[0]?.readings).toBe(0)
    expect(windows[1]?.readings).toBe(1)
    expect(windows[0]?.byStore.A).toEqual({ flushes: 1, compactions: 1, longestCompactionMs: 2500, writeWaits: 0 })
    expect(windows[1]?.byStore.A).toEqual({ flushes: 0, compactions: 1, longestCompactionMs: 2500, writeWaits: 1 })
    expect(windows[1]?.byStore.B).toEqual({ flushes: 0, compactions: 0, longestCompactionMs: 0, writeWaits: 0 })
  })

  it('leaves out windows with no sends and refuses a window of no length', () => {
    const windows = latencyWindows([{ at: START + 125_000, ms: 1 }], { start: START, windowMs: 60_000, readings: [], stores: {} })
    expect(windows.map(w => w.minute)).toEqual([2])
    expect(() => latencyWindows([], { start: START, windowMs: 0, readings: [], stores: {} })).toThrow(RangeError)
  })
})
