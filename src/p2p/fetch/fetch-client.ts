/**
 * The requesting side of the fetch protocol, one exchange per stream. Checks the shape of the
 * answer (frame kinds, record count and bytes, the end frame's count) before any record is looked
 * at: an answer over a bound is refused whole. Whether each record is genuine, wanted and
 * acceptable is decided by the caller's onRecord. An answer is at most MAX_FETCH_RESPONSE_BYTES,
 * so holding it until its end frame is cheap.
 */
import { decodeResponseFrame } from '../sync/protocol.js'
import { SyncPeerRefusedError, SyncProtocolError } from '../sync/errors.js'
import { encodeFetchRequest, MAX_FETCH_RECORDS, MAX_FETCH_RESPONSE_BYTES } from './protocol.js'
import type { FetchRef } from './protocol.js'
import type { FrameStream } from '../sync/stream-adapter.js'

/** Sends the request, reads the whole answer, then hands each record to `onRecord` in turn; resolves with their number. */
export async function requestRecords (stream: FrameStream, refs: readonly FetchRef[], onRecord: (bytes: Uint8Array) => Promise<void>): Promise<number> {
  await stream.writeAll([encodeFetchRequest(refs)])
  const records: Uint8Array[] = []
  let count = 0
  let bytes = 0
  for (;;) {
    const frame = await stream.read()
    if (frame === undefined || frame.byteLength === 0) throw new SyncProtocolError('fetch answer ended before its end frame')
    const message = decodeResponseFrame(frame)
    switch (message.type) {
      case 'record':
        count++
        bytes += message.bytes.byteLength
        if (count > MAX_FETCH_RECORDS) throw new SyncProtocolError(`fetch answer above ${MAX_FETCH_RECORDS} records`)
        if (bytes > MAX_FETCH_RESPONSE_BYTES) throw new SyncProtocolError(`fetch answer above ${MAX_FETCH_RESPONSE_BYTES} bytes`)
        records.push(message.bytes)
        break
      case 'end':
        if (message.count !== count) throw new SyncProtocolError('fetch end count disagrees with the records sent')
        for (const record of records) await onRecord(record)
        return count
      case 'error':
        throw new SyncPeerRefusedError(message.reason)
      default:
        throw new SyncProtocolError('unexpected frame in a fetch answer', { type: message.type })
    }
  }
}
