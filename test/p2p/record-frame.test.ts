import { describe, expect, it } from 'vitest'
import { decodeRecordFrame, encodeRecordFrame, FRAME_MAGIC, isRecordFrame, MAX_FRAME_BYTES, MAX_FRAME_RECORDS, MalformedFrameError } from '../../src/p2p/index.js'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { BUSY_RECORDS, BUSY_WINDOW_MS, FrameSender } from '../../src/p2p/frame-sender.js'

function recordOfSize (size: number, fill = 0x2e): Uint8Array {
  const bytes = new Uint8Array(size).fill(fill)
  bytes[0] = 0x7b // a wire record is a JSON object
  return bytes
}

/** A clock for FrameSender that moves `step` ms each time it is read: each record comes `step` ms after the one before. */
function steppingClock (step: number): { now: () => number, advance: (ms: number) => void } {
  let t = 0
  return { now: () => (t += step), advance: (ms) => { t += ms } }
}

/** Lets the event loop run a few turns: long enough for a record that waits for nothing but its turn to be sent. */
async function someTurns (): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn()
}

/** A frame with the given header count and record lengths, whatever the bounds say. */
function rawFrame (count: number, lengths: number[], trailing = 0): Uint8Array {
  const size = 6 + lengths.reduce((sum, n) => sum + 4 + n, 0) + trailing
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  out.set(FRAME_MAGIC)
  view.setUint16(4, count)
  let at = 6
  for (const n of lengths) {
    view.setUint32(at, n)
    out.set(recordOfSize(Math.max(n, 1)).subarray(0, n), at + 4)
    at += 4 + n
  }
  return out
}

describe('record frames', () => {
  it('carry records byte for byte and are told apart from a single record by their magic', () => {
    const records = [recordOfSize(3), recordOfSize(1000, 0x41), recordOfSize(1)]
    const frame = encodeRecordFrame(records)
    expect(isRecordFrame(frame)).toBe(true)
    expect(decodeRecordFrame(frame)).toEqual(records)
    expect(isRecordFrame(new TextEncoder().encode('{"specversion":"1.0"}'))).toBe(false)
    expect(isRecordFrame(FRAME_MAGIC.subarray(0, 3))).toBe(false)
    // a later version is not this one: its magic differs in the version byte
    const v2 = frame.slice()
    v2[3] = 2
    expect(isRecordFrame(v2)).toBe(false)
  })

  it('refuse anything outside the layout or its bounds', () => {
    const bad: Array<[string, Uint8Array]> = [
      ['one record (it travels unframed)', rawFrame(1, [5])],
      ['too many records', rawFrame(MAX_FRAME_RECORDS + 1, Array.from({ length: MAX_FRAME_RECORDS + 1 }, () => 2))],
      ['an empty record', rawFrame(2, [3, 0])],
      ['a length past the end', rawFrame(2, [3, 3]).subarray(0, 15)],
      ['a count above the records present', rawFrame(3, [3, 3])],
      ['bytes after the last record', rawFrame(2, [3, 3], 1)],
      ['a truncated header', FRAME_MAGIC.slice()],
      ['more bytes than a frame holds', rawFrame(2, [MAX_FRAME_BYTES / 2, MAX_FRAME_BYTES / 2])]
    ]
    for (const [what, frame] of bad) {
      expect(() => decodeRecordFrame(frame), what).toThrow(MalformedFrameError)
    }
    expect(() => decodeRecordFrame(rawFrame(2, [3, 3]))).not.toThrow()
    expect(decodeRecordFrame(rawFrame(MAX_FRAME_RECORDS, Array.from({ length: MAX_FRAME_RECORDS }, () => 2)))).toHaveLength(MAX_FRAME_RECORDS)
    expect(() => encodeRecordFrame([recordOfSize(3)])).toThrow(RangeError)
    expect(() => encodeRecordFrame([recordOfSize(MAX_FRAME_BYTES / 2), recordOfSize(MAX_FRAME_BYTES / 2)])).toThrow(RangeError)
  })
})

describe('FrameSender', () => {
  it('sends a lone record alone, and frames the records of one turn and those that came while a send was in flight, within the bounds', async () => {
    const sent: Array<{ topic: string, message: Uint8Array }> = []
    let inFlight: Array<Promise<number>> = []
    // records BUSY_WINDOW_MS apart: the load never reaches the threshold, so nothing waits for a flush
    let flushes = 0
    const sender = new FrameSender(async (topic, message) => {
      sent.push({ topic, message })
      // while the first message of topic t is being sent, more records come for it
      if (sent.length === 2) inFlight = [sender.send('t', lateA), sender.send('t', lateB)]
      return 3
    }, { now: steppingClock(BUSY_WINDOW_MS).now, flushDelay: async () => { flushes++ } })
    expect(await sender.send('t', recordOfSize(10))).toBe(3)
    expect(sent).toHaveLength(1)
    expect(isRecordFrame(sent[0]?.message as Uint8Array)).toBe(false)

    // one turn's worth (a group commit): all share frames, the first included
    const burst = Array.from({ length: MAX_FRAME_RECORDS + 6 }, (_, i) => recordOfSize(100 + i))
    const large = recordOfSize(MAX_FRAME_BYTES)
    const other = recordOfSize(20)
    const lateA = recordOfSize(30)
    const lateB = recordOfSize(31)
    const results = await Promise.all([...[...burst, large].map(async (r) => await sender.send('t', r)), sender.send('u', other)])
    expect(await Promise.all(inFlight)).toEqual([3, 3])
    expect(results.every((n) => n === 3)).toBe(true)
    const messages = sent.slice(1)
    const onT = messages.filter((m) => m.topic === 't').map((m) => m.message)
    expect(messages.filter((m) => m.topic === 'u').map((m) => m.message)).toEqual([other])
    expect(decodeRecordFrame(onT[0] as Uint8Array)).toEqual(burst.slice(0, MAX_FRAME_RECORDS))
    expect(decodeRecordFrame(onT[1] as Uint8Array)).toEqual(burst.slice(MAX_FRAME_RECORDS))
    // too large to share a frame: alone, as it is
    expect(Buffer.from(onT[2] as Uint8Array).equals(large)).toBe(true)
    // the two that came while the first message was sent: together, after the turn's records
    expect(decodeRecordFrame(onT[3] as Uint8Array)).toEqual([lateA, lateB])
    expect(onT).toHaveLength(4)
    expect(flushes).toBe(0)
  })

  it('under load, holds every topic\'s records for one shared flush; at light load, sends each record at the end of its turn', async () => {
    const sent: Array<{ topic: string, message: Uint8Array }> = []
    const clock = steppingClock(1)
    let flushes = 0
    let flushNow = (): void => {}
    const sender = new FrameSender(async (topic, message) => {
      sent.push({ topic, message })
      return 2
    }, {
      now: clock.now,
      flushDelay: async () => {
        flushes++
        await new Promise<void>(resolve => { flushNow = resolve })
      }
    })

    // 1 ms apart, each awaited: until BUSY_RECORDS have come within the window, each goes alone at once
    for (let i = 0; i < BUSY_RECORDS - 1; i++) expect(await sender.send('t', recordOfSize(10 + i))).toBe(2)
    expect(sent).toHaveLength(BUSY_RECORDS - 1)
    expect(flushes).toBe(0)

    // the load is now over the threshold: records of two topics, in different turns, wait for one flush
    const t1 = recordOfSize(40)
    const t2 = recordOfSize(41)
    const u1 = recordOfSize(42)
    const waiting = [sender.send('t', t1)]
    await nextTurn()
    waiting.push(sender.send('u', u1))
    await nextTurn()
    waiting.push(sender.send('t', t2))
    await someTurns()
    expect(sent).toHaveLength(BUSY_RECORDS - 1)
    expect(flushes).toBe(1)
    flushNow()
    expect(await Promise.all(waiting)).toEqual([2, 2, 2])
    const flushed = sent.slice(BUSY_RECORDS - 1)
    expect(flushed.map(m => m.topic).sort()).toEqual(['t', 'u'])
    expect(decodeRecordFrame(flushed.find(m => m.topic === 't')?.message as Uint8Array)).toEqual([t1, t2])
    expect(flushed.find(m => m.topic === 'u')?.message).toEqual(u1)

    // the load falls away: the next record goes at the end of its turn again
    clock.advance(BUSY_WINDOW_MS)
    const late = recordOfSize(50)
    expect(await sender.send('u', late)).toBe(2)
    expect(sent.at(-1)?.message).toEqual(late)
    expect(flushes).toBe(1)
  })

  it('fails the records of a message whose send failed, and goes on with the next', async () => {
    let fail = true
    let second: Promise<number> | undefined
    const sender = new FrameSender(async () => {
      if (fail) {
        fail = false
        // comes while the failing message is being sent: the next message
        second = sender.send('t', recordOfSize(6))
        throw new Error('no peers')
      }
      return 1
    })
    const [first, third] = await Promise.allSettled([sender.send('t', recordOfSize(5)), sender.send('t', recordOfSize(7))])
    expect(first).toMatchObject({ status: 'rejected', reason: { message: 'no peers' } })
    // the record of the same turn shared the failed message
    expect(third).toMatchObject({ status: 'rejected', reason: { message: 'no peers' } })
    expect(await second).toBe(1)
  })
})
