import { setImmediate as nextTurn } from 'node:timers/promises'
import { encodeRecordFrame, FRAME_ENTRY_BYTES, frameSize, MAX_FRAME_BYTES, MAX_FRAME_RECORDS } from './record-frame.js'

/** Sends one gossip message on a topic; resolves with how many peers it went to. */
export type SendMessage = (topic: string, message: Uint8Array) => Promise<number>

interface Waiting {
  record: Uint8Array
  resolve: (recipients: number) => void
  reject: (err: unknown) => void
}

interface Lane {
  waiting: Waiting[]
  sending: boolean
}

/**
 * Turns a topic's outgoing records into gossip messages: the records handed over in one turn of
 * the event loop (a group commit's: a publish batch, or single publishes that were stored
 * together) go out together as one frame (record-frame.ts) at the end of that turn, and those
 * that arrive while a send is in flight go out together when it completes. No record waits for
 * company beyond its own turn: at light load every record is its own message, as before frames;
 * under load they share messages, within the frame's bounds in records and bytes. A record too
 * large for a frame's byte bound goes alone.
 */
export class FrameSender {
  private readonly lanes = new Map<string, Lane>()

  constructor (private readonly sendMessage: SendMessage) {}

  /** Resolves with the recipients of the message that carried `record`; rejects if that send failed. */
  async send (topic: string, record: Uint8Array): Promise<number> {
    let lane = this.lanes.get(topic)
    if (lane === undefined) {
      lane = { waiting: [], sending: false }
      this.lanes.set(topic, lane)
    }
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
