import { describe, expect, it } from 'vitest'
import { encodeEnd, encodeRecord } from '../../../src/p2p/sync/protocol.js'
import { RECORD_WINDOW, requestRange } from '../../../src/p2p/sync/sync-client.js'
import type { FrameStream } from '../../../src/p2p/sync/stream-adapter.js'
import type { RangeRequest } from '../../../src/p2p/sync/protocol.js'

/** A stream that answers with the given frames, counting how many were read. */
function scripted (frames: Uint8Array[]): FrameStream & { reads: number } {
  const stream = {
    reads: 0,
    async read () {
      const frame = frames[stream.reads]
      stream.reads++
      return frame
    },
    async writeAll () {},
    async close () {},
    abort () {}
  }
  return stream
}

const request = (limit: number): RangeRequest => ({ type: 'range', origin: '12D3KooWQ', eventClass: 'artifact.published', from: 1, to: limit, limit })

describe('requestRange', () => {
  it('starts records as they arrive but settles them in arrival order, whatever order they finish in', async () => {
    const count = RECORD_WINDOW * 2 + 5
    const frames = [...Array.from({ length: count }, (_, i) => encodeRecord(new Uint8Array([i % 256, i >> 8])).subarray()), encodeEnd(count, false)]
    const settled: number[] = []
    let running = 0
    let mostRunning = 0
    const end = await requestRange(scripted(frames), request(count), async (bytes) => {
      running++
      mostRunning = Math.max(mostRunning, running)
      const n = (bytes[0] as number) + ((bytes[1] as number) << 8)
      // later records finish first
      await new Promise((resolve) => setImmediate(resolve, (count - n) % 7))
      for (let i = 0; i < (count - n) % 7; i++) await Promise.resolve()
      running--
      return n
    }, (n) => { settled.push(n) })
    expect(end).toEqual({ count, truncated: false })
    expect(settled).toEqual(Array.from({ length: count }, (_, i) => i))
    expect(mostRunning).toBeGreaterThan(1)
    expect(mostRunning).toBeLessThanOrEqual(RECORD_WINDOW)
  })

  it('stops reading within one window of the first record whose settle throws', async () => {
    const count = RECORD_WINDOW * 3
    const frames = [...Array.from({ length: count }, (_, i) => encodeRecord(new Uint8Array([i])).subarray()), encodeEnd(count, false)]
    const stream = scripted(frames)
    await expect(requestRange(stream, request(count), async (bytes) => bytes[0] as number, (n) => {
      if (n === 3) throw new Error('refused')
    })).rejects.toThrow('refused')
    expect(stream.reads).toBe(4 + RECORD_WINDOW - 1)
  })
})
