import { describe, it, expect } from 'vitest'
import { initialFloor, PAGE_SIZE } from '../../../src/p2p/sync/index.js'
import {
  decodeRequest, decodeResponseFrame, encodeEnd, encodeError, encodeRecord, encodeRequest, encodeSummary,
  FRAME_KIND, MAX_CONTROL_FRAME_BYTES, MAX_RECORD_BYTES, MAX_SUMMARY_CLASSES, SUMMARY_CHUNK_ENTRIES
} from '../../../src/p2p/sync/protocol.js'
import { firstFreeRun, IntervalSet } from '../../../src/p2p/sync/intervals.js'

function control (kind: number, body: unknown): Uint8Array {
  return Uint8Array.from([kind, ...new TextEncoder().encode(JSON.stringify(body))])
}

function codeOf (fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

const RANGE = { origin: 'QmOrigin', eventClass: 'artifact.published', from: 1, to: 10, limit: 10 }

describe('sync wire format', () => {
  it('round-trips requests and responses', () => {
    expect(decodeRequest(encodeRequest({ type: 'summary', classes: ['artifact.published', 'x.tool-thing.done'] })))
      .toEqual({ type: 'summary', classes: ['artifact.published', 'x.tool-thing.done'] })
    expect(decodeRequest(encodeRequest({ type: 'range', ...RANGE }))).toEqual({ type: 'range', ...RANGE })
    const entries = [{ origin: 'QmA', eventClass: 'build.finished', highest: 9, contiguous: 7 }]
    expect(decodeResponseFrame(encodeSummary(entries))).toEqual({ type: 'summary', entries })
    expect(decodeResponseFrame(encodeEnd(3, true))).toEqual({ type: 'end', count: 3, truncated: true })
    expect(decodeResponseFrame(encodeError('busy'))).toEqual({ type: 'error', reason: 'busy' })
    const record = Uint8Array.from([1, 2, 3])
    expect(decodeResponseFrame(encodeRecord(record).subarray())).toEqual({ type: 'record', bytes: record })
  })

  it('refuses malformed requests with CDG_SYNC_PROTOCOL', () => {
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.from([0x7f, 0x7b, 0x7d]),
      Uint8Array.from([FRAME_KIND.rangeRequest, 0xff, 0xfe]),
      control(FRAME_KIND.rangeRequest, [1, 2]),
      control(FRAME_KIND.rangeRequest, { ...RANGE, extra: true }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, from: 0 }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, to: 0 }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, from: 1.5 }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, to: Number.MAX_SAFE_INTEGER + 2 }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, limit: PAGE_SIZE + 1 }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, limit: '10' }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, origin: 'Qm/../x' }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, origin: 'Q'.repeat(129) }),
      control(FRAME_KIND.rangeRequest, { ...RANGE, eventClass: '' }),
      control(FRAME_KIND.summaryRequest, { classes: 'artifact.published' }),
      control(FRAME_KIND.summaryRequest, { classes: Array.from({ length: MAX_SUMMARY_CLASSES + 1 }, (_, i) => `c${i}.x`) }),
      control(FRAME_KIND.summaryRequest, { classes: ['ok.class', 42] }),
      control(FRAME_KIND.summaryRequest, { classes: [], more: 1 }),
      control(FRAME_KIND.summaryRequest, { classes: ['a'.repeat(MAX_CONTROL_FRAME_BYTES)] }),
      encodeEnd(0, false)
    ]
    for (const frame of bad) expect(codeOf(() => decodeRequest(frame)), `frame ${frame.slice(0, 40).toString()}`).toBe('CDG_SYNC_PROTOCOL')
  })

  it('refuses malformed responses with CDG_SYNC_PROTOCOL', () => {
    const entry = { origin: 'QmA', eventClass: 'build.finished', highest: 9, contiguous: 7 }
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.from([FRAME_KIND.record]),
      new Uint8Array(MAX_RECORD_BYTES + 2).fill(FRAME_KIND.record),
      control(FRAME_KIND.summary, { entries: [{ ...entry, contiguous: 10 }] }),
      control(FRAME_KIND.summary, { entries: [{ ...entry, highest: 0, contiguous: 0 }] }),
      control(FRAME_KIND.summary, { entries: [{ ...entry, extra: 1 }] }),
      control(FRAME_KIND.summary, { entries: Array.from({ length: SUMMARY_CHUNK_ENTRIES + 1 }, () => entry) }),
      control(FRAME_KIND.summary, { entries: {} }),
      control(FRAME_KIND.end, { count: -1, truncated: false }),
      control(FRAME_KIND.end, { count: 1 }),
      control(FRAME_KIND.end, { count: 1, truncated: 'no' }),
      control(FRAME_KIND.error, { reason: 'because' }),
      encodeRequest({ type: 'range', ...RANGE })
    ]
    for (const frame of bad) expect(codeOf(() => decodeResponseFrame(frame)), `frame ${frame.slice(0, 40).toString()}`).toBe('CDG_SYNC_PROTOCOL')
  })
})

describe('IntervalSet', () => {
  it('merges, splits and answers membership', () => {
    const set = new IntervalSet()
    set.add(5, 9)
    set.add(1, 3)
    set.add(4)
    expect(set.intervals()).toEqual([[1, 9]])
    set.remove(3, 4)
    expect(set.intervals()).toEqual([[1, 2], [5, 9]])
    expect(set.has(2)).toBe(true)
    expect(set.has(3)).toBe(false)
    expect(set.size).toBe(7)
    set.add(20, 30)
    set.removeUpTo(6)
    expect(set.intervals()).toEqual([[7, 9], [20, 30]])
    expect(set.coverEnd(8)).toBe(9)
    expect(set.nextStartAfter(9)).toBe(20)
  })

  it('finds the first free run outside every set, bounded in length', () => {
    const inflight = new IntervalSet()
    const settled = new IntervalSet()
    inflight.add(1, 10)
    settled.add(11, 12)
    settled.add(40, 50)
    expect(firstFreeRun(1, 100, [inflight, settled], 500)).toEqual([13, 39])
    expect(firstFreeRun(1, 100, [inflight, settled], 5)).toEqual([13, 17])
    expect(firstFreeRun(1, 12, [inflight, settled], 5)).toBeUndefined()
    expect(firstFreeRun(45, 60, [inflight, settled], 500)).toEqual([51, 60])
  })
})

describe('initialFloor', () => {
  it('backfills everything from the beginning', () => {
    expect(initialFloor('beginning', undefined, 50)).toBe(0)
    expect(initialFloor('beginning', { highest: 9, contiguous: 0 }, 50)).toBe(0)
  })

  it('from now, skips what exists when the pair is first met', () => {
    expect(initialFloor('now', undefined, 50)).toBe(50)
    expect(initialFloor('now', { highest: 0, contiguous: 0 }, 50)).toBe(50)
    // followed from sequence 1: nothing is history
    expect(initialFloor('now', { highest: 30, contiguous: 20 }, 50)).toBe(0)
    // first met live at some sequence <= 30: keep what follows the highest held
    expect(initialFloor('now', { highest: 30, contiguous: 0 }, 50)).toBe(29)
  })
})
