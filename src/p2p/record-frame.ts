import { CdgossipError } from '../errors.js'

/**
 * A record frame: several signed records of one class in one gossip message, so a burst of
 * records costs one message id, one seen-cache entry, one validator call and one send per peer
 * instead of one each. The records inside are untouched wire records (each signed and
 * self-verifying, stored and served by sync one by one); the frame itself is not signed, and its
 * message id is the hash of its bytes like any message's.
 *
 * Layout, version 1 (docs/wire-format.md, "Record frame, version 1"):
 *   4 bytes  magic and version: 0x00 'C' 'F' 0x01
 *   2 bytes  record count, unsigned big-endian, 2..MAX_FRAME_RECORDS
 *   per record: 4 bytes length (unsigned big-endian, ≥ 1), then the record's wire bytes
 * and nothing after the last record. A wire record is a JSON object, whose first byte is `{`,
 * never 0x00: a message is a frame exactly when it starts with the magic, and a message without
 * it is one record, as before frames existed (nodes of both versions share a network). A single
 * record always travels unframed, so each record has exactly one single-record message form.
 */
export const FRAME_MAGIC: Readonly<Uint8Array> = Uint8Array.of(0x00, 0x43, 0x46, 0x01)

/** Most records in one frame: bounds what one message costs to verify and store. */
export const MAX_FRAME_RECORDS = 64

/**
 * Most bytes of one frame, header included. Far under the gossip RPC limit (MAX_INBOUND_DATA_LENGTH),
 * so frames and their piggybacked control always fit; a record larger than a frame can hold travels alone.
 */
export const MAX_FRAME_BYTES = 256 * 1024

const HEADER_BYTES = FRAME_MAGIC.byteLength + 2
/** What each record adds to a frame besides its own bytes: its length. */
export const FRAME_ENTRY_BYTES = 4

/** A message that starts with the frame magic but breaks the layout or its bounds. */
export class MalformedFrameError extends CdgossipError<{ reason: string }> {
  constructor (reason: string) {
    // a frame is how records travel: one that cannot be read is as invalid as an unreadable record
    super('CDG_INVALID_CLOUDEVENT', `malformed record frame: ${reason}`, { details: { reason } })
    this.name = 'MalformedFrameError'
  }
}

/** Whether a gossip message is a frame (else it is one record). */
export function isRecordFrame (message: Uint8Array): boolean {
  return message.byteLength >= FRAME_MAGIC.byteLength &&
    message[0] === FRAME_MAGIC[0] && message[1] === FRAME_MAGIC[1] && message[2] === FRAME_MAGIC[2] && message[3] === FRAME_MAGIC[3]
}

/** The bytes a frame of `records` takes. */
export function frameSize (records: readonly Uint8Array[]): number {
  let size = HEADER_BYTES
  for (const r of records) size += FRAME_ENTRY_BYTES + r.byteLength
  return size
}

/** One frame of 2..MAX_FRAME_RECORDS records, at most MAX_FRAME_BYTES (the caller groups within them). */
export function encodeRecordFrame (records: readonly Uint8Array[]): Uint8Array {
  if (records.length < 2 || records.length > MAX_FRAME_RECORDS) throw new RangeError(`a frame holds 2 to ${MAX_FRAME_RECORDS} records, not ${records.length}`)
  const size = frameSize(records)
  if (size > MAX_FRAME_BYTES) throw new RangeError(`a frame of ${size} bytes is over ${MAX_FRAME_BYTES}`)
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  out.set(FRAME_MAGIC, 0)
  view.setUint16(FRAME_MAGIC.byteLength, records.length)
  let at = HEADER_BYTES
  for (const r of records) {
    view.setUint32(at, r.byteLength)
    out.set(r, at + FRAME_ENTRY_BYTES)
    at += FRAME_ENTRY_BYTES + r.byteLength
  }
  return out
}

/**
 * The records of a frame, as views into `frame` (the receive path copies what it keeps). Throws
 * MalformedFrameError for anything but exactly the layout above within its bounds.
 */
export function decodeRecordFrame (frame: Uint8Array): Uint8Array[] {
  if (!isRecordFrame(frame)) throw new MalformedFrameError('no frame magic')
  if (frame.byteLength > MAX_FRAME_BYTES) throw new MalformedFrameError(`${frame.byteLength} bytes, over ${MAX_FRAME_BYTES}`)
  if (frame.byteLength < HEADER_BYTES) throw new MalformedFrameError('truncated header')
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const count = view.getUint16(FRAME_MAGIC.byteLength)
  if (count < 2 || count > MAX_FRAME_RECORDS) throw new MalformedFrameError(`${count} records, not 2 to ${MAX_FRAME_RECORDS}`)
  const records: Uint8Array[] = []
  let at = HEADER_BYTES
  for (let i = 0; i < count; i++) {
    if (at + FRAME_ENTRY_BYTES > frame.byteLength) throw new MalformedFrameError(`truncated at record ${i}`)
    const length = view.getUint32(at)
    at += FRAME_ENTRY_BYTES
    if (length === 0) throw new MalformedFrameError(`record ${i} is empty`)
    if (length > frame.byteLength - at) throw new MalformedFrameError(`record ${i} runs past the end`)
    records.push(frame.subarray(at, at + length))
    at += length
  }
  if (at !== frame.byteLength) throw new MalformedFrameError('bytes after the last record')
  return records
}
