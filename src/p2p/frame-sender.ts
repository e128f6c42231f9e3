import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { encodeRecordFrame, FRAME_ENTRY_BYTES, frameSize, MAX_FRAME_BYTES, MAX_FRAME_RECORDS } from './record-frame.js'

/** Sends one gossip message on a topic; resolves with how many peers it went to. */
export type SendMessage = (topic: string, message: Uint8Array) => Promise<number>

/**
 * A node is under load while it hands gossip this many records within BUSY_WINDOW_MS (100
 * records/s). Below that (light load, and the 50 events/s of the bench's light phase) no record
 * waits for a flush. From there up, a flush saves the most: at 150 events/s a receiver used ~28 %
 * less CPU per event with it (BENCHMARKS.md, round 8), where each record had cost it several
 * thread wake-ups.
 */
export const BUSY_RECORDS = 10
export const BUSY_WINDOW_MS = 100
/**
 * Under load, frames leave on a shared clock of this period: the records every topic gathered
 * since the last flush go out in the same turn. That, more than the frames' size, is what saves
 * CPU (BENCHMARKS.md, round 8): the receivers then verify and store all topics' records of a
 * flush in one turn and one write, and the sender's connections carry them in one write. A timer
 * per topic, each lane waiting on its own, saved about half as much.
 */
export const FLUSH_INTERVAL_MS = 10

export interface FrameSenderOptions {
  /** monotonic milliseconds; default performance.now */
  now?: () => number
  /** resolves when the next flush is due (FLUSH_INTERVAL_MS from the first record to wait) */
  flushDelay?: () => Promise<void>
}

interface Waiting {
  record: Uint8Array
  resolve: (recipients: number) => void
  reject: (err: unknown) => void
}

interface Lane {
  waiting: Waiting[]
  sending: boolean
  /** a record of this lane came while the node was under load: the lane waits for the flush */
  paced: boolean
}

/**
 * Turns a topic's outgoing records into gossip messages. The records handed over in one turn of
 * the event loop (a group commit's: a publish batch, or single publishes that were stored
 * together) go out together as one frame (record-frame.ts) at the end of that turn, and those
 * that arrive while a send is in flight go out together when it completes. Under load (see
 * BUSY_RECORDS) a topic's records wait for the next flush instead, at most FLUSH_INTERVAL_MS, and
 * all topics flush together. At light load no record waits for company beyond its own turn, and
 * a lone record is its own message, as before frames. Frames stay within their bounds in records
 * and bytes; a record too large for a frame's byte bound goes alone.
 */
export class FrameSender {
  private readonly lanes = new Map<string, Lane>()
  private readonly load: LoadGauge
  private readonly flushDelay: () => Promise<void>
  private flush: Promise<void> | undefined

  constructor (private readonly sendMessage: SendMessage, options: FrameSenderOptions = {}) {
    this.load = new LoadGauge(options.now ?? (() => performance.now()))
    this.flushDelay = options.flushDelay ?? (async () => { await sleep(FLUSH_INTERVAL_MS) })
  }

  /** Resolves with the recipients of the message that carried `record`; rejects if that send failed. */
  async send (topic: string, record: Uint8Array): Promise<number> {
    const busy = this.load.busyAfterOneMore()
    let lane = this.lanes.get(topic)
    if (lane === undefined) {
      lane = { waiting: [], sending: false, paced: false }
      this.lanes.set(topic, lane)
    }
    lane.paced ||= busy
    const promise = new Promise<number>((resolve, reject) => { lane.waiting.push({ record, resolve, reject }) })
    if (!lane.sending) void this.drain(topic, lane)
    return await promise
  }

  private async drain (topic: string, lane: Lane): Promise<void> {
    lane.sending = true
    try {
      // Sending the first record at once would leave the rest of its group commit for a second
      // message: with 32 single publishes in flight that made ~1.4 records per message, ~2.3 now.
      await nextTurn()
      if (lane.paced) await this.nextFlush()
      while (lane.waiting.length > 0) {
        const group = takeFrame(lane.waiting)
        const records = group.map(w => w.record)
        try {
          const recipients = await this.sendMessage(topic, records.length === 1 ? records[0] as Uint8Array : encodeRecordFrame(records))
          for (const w of group) w.resolve(recipients)
        } catch (err) {
          for (const w of group) w.reject(err)
        }
      }
    } finally {
      lane.sending = false
      this.lanes.delete(topic)
    }
  }

  /** The flush every paced lane waits for: one shared delay, started by the first lane to wait. */
  private async nextFlush (): Promise<void> {
    this.flush ??= this.flushDelay().finally(() => { this.flush = undefined })
    await this.flush
  }
}

/** Whether the last BUSY_RECORDS records were all handed over within BUSY_WINDOW_MS. */
class LoadGauge {
  /** when each of the last BUSY_RECORDS records was handed over, a ring; oldest at `next` */
  private readonly times = new Float64Array(BUSY_RECORDS).fill(Number.NEGATIVE_INFINITY)
  private next = 0

  constructor (private readonly now: () => number) {}

  /** Notes one more record; true when it and the BUSY_RECORDS - 1 before it came within the window. */
  busyAfterOneMore (): boolean {
    const now = this.now()
    // the slot after the one written now holds the record BUSY_RECORDS - 1 back, the first of the last BUSY_RECORDS
    const first = this.times[(this.next + 1) % BUSY_RECORDS] as number
    this.times[this.next] = now
    this.next = (this.next + 1) % BUSY_RECORDS
    return now - first < BUSY_WINDOW_MS
  }
}

/** Takes from the head of `waiting` the records of the next message: as many as one frame holds, at least one. */
function takeFrame (waiting: Waiting[]): Waiting[] {
  let count = 1
  let size = frameSize([(waiting[0] as Waiting).record])
  while (count < waiting.length && count < MAX_FRAME_RECORDS) {
    size += FRAME_ENTRY_BYTES + (waiting[count] as Waiting).record.byteLength
    if (size > MAX_FRAME_BYTES) break
    count++
  }
  return waiting.splice(0, count)
}
