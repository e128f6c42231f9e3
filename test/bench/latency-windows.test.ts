import { describe, expect, it } from 'vitest'
import { latencyWindows } from '../../scripts/bench/latency-windows.js'
import type { NodeActivity } from '../../scripts/bench/latency-windows.js'

const START = 1_000_000
const idle: NodeActivity = { store: { flushes: [], compactions: [], memtableWaits: [], level0Waits: [] }, gc: [] }
const base = { start: START, windowMs: 60_000, readings: [], nodes: {}, publisher: 'A', slowMs: 50 }

describe('latencyWindows', () => {
  it('summarizes each window by send time and says where its slowest send went out', () => {
    const sends = [
      ...Array.from({ length: 100 }, (_, i) => ({ at: START + i * 100, ms: 2 })),
      { at: START + 30_000, ms: 900 },
      ...Array.from({ length: 10 }, (_, i) => ({ at: START + 60_000 + i * 100, ms: 5 }))
    ]
    const windows = latencyWindows(sends, base)
    expect(windows.map(w => [w.minute, w.sends, w.p50, w.max, w.maxSentAtMinute])).toEqual([[0, 101, 2, 900, 0.5], [1, 10, 5, 5, 1]])
  })

  it('counts the readings, store work and collections that fall in each window', () => {
    const sends = [{ at: START + 1_000, ms: 3 }, { at: START + 61_000, ms: 3 }]
    const a: NodeActivity = {
      store: {
        flushes: [{ start: START + 10_000, end: START + 10_050 }],
        // runs across the boundary: both windows see it, whole
        compactions: [{ start: START + 59_000, end: START + 61_500 }],
        memtableWaits: [START + 60_500],
        level0Waits: []
      },
      gc: [
        { start: START + 5_000, end: START + 5_002, major: false },
        { start: START + 6_000, end: START + 6_030, major: true },
        { start: START + 65_000, end: START + 65_004, major: false }
      ]
    }
    const windows = latencyWindows(sends, { ...base, readings: [{ start: START + 70_000, end: START + 70_300 }], nodes: { A: a, B: idle } })
    expect(windows[0]?.readings).toBe(0)
    expect(windows[1]?.readings).toBe(1)
    expect(windows[0]?.byNode.A).toEqual({ flushes: 1, compactions: 1, longestCompactionMs: 2500, writeWaits: 0, gcPauseMs: 32, longestGcPauseMs: 30, majorGcs: 1 })
    expect(windows[1]?.byNode.A).toEqual({ flushes: 0, compactions: 1, longestCompactionMs: 2500, writeWaits: 1, gcPauseMs: 4, longestGcPauseMs: 4, majorGcs: 0 })
    expect(windows[1]?.byNode.B).toEqual({ flushes: 0, compactions: 0, longestCompactionMs: 0, writeWaits: 0, gcPauseMs: 0, longestGcPauseMs: 0, majorGcs: 0 })
  })

  it('says which slow sends were in flight during a long pause or a compaction of the publisher', () => {
    const a: NodeActivity = {
      store: { flushes: [], compactions: [{ start: START + 20_000, end: START + 21_000 }], memtableWaits: [], level0Waits: [] },
      gc: [
        { start: START + 10_040, end: START + 10_080, major: true },
        // short pauses are everywhere; they do not count
        { start: START + 30_010, end: START + 30_015, major: false }
      ]
    }
    const sends = [
      { at: START + 10_000, ms: 100 }, // waited through the 40 ms pause
      { at: START + 20_500, ms: 70 }, // during the compaction
      { at: START + 30_000, ms: 60 }, // only a short pause
      { at: START + 40_000, ms: 3 } // fast
    ]
    const [window] = latencyWindows(sends, { ...base, nodes: { A: a, B: idle } })
    expect(window?.slow).toEqual({ sends: 3, duringLongGcPause: 1, duringCompaction: 1 })
  })

  it('leaves out windows with no sends and refuses a window of no length', () => {
    const windows = latencyWindows([{ at: START + 125_000, ms: 1 }], base)
    expect(windows.map(w => w.minute)).toEqual([2])
    expect(() => latencyWindows([], { ...base, windowMs: 0 })).toThrow(RangeError)
  })
})
