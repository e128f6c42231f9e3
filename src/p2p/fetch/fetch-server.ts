/**
 * The serving side of the fetch protocol: answers one request per stream with the records this
 * node holds that match it (FetchComponents.findRecords reads the store's trace indexes), within
 * a record count and a byte budget. Every request is untrusted input: strict decoding, a deadline
 * for the request and for the whole answer, and a cap on answers served at once.
 */
import { encodeEnd, encodeError, encodeRecord, MAX_RECORD_BYTES } from '../sync/protocol.js'
import { SyncTimeoutError } from '../sync/errors.js'
import { decodeFetchRequest, MAX_FETCH_RECORDS, MAX_FETCH_RESPONSE_BYTES } from './protocol.js'
import type { FetchRef } from './protocol.js'
import { readRequestFrame } from '../sync/stream-adapter.js'
import type { Frame, FrameStream } from '../sync/stream-adapter.js'
import type { FetchComponents, FetchCounters } from './types.js'

/** A requester must send its request this soon after opening the stream. */
export const FETCH_SERVER_REQUEST_TIMEOUT_MS = 2_000
/** Whole-answer budget: a requester that reads slowly cannot hold store reads for long. */
export const FETCH_RESPONSE_TIMEOUT_MS = 5_000
/** Requests answered at once across all peers; more are answered `busy`. */
export const MAX_CONCURRENT_FETCH_SERVES = 8

export interface FetchServerInit {
  /** @default MAX_FETCH_RESPONSE_BYTES */
  maxResponseBytes?: number
  /** @default MAX_CONCURRENT_FETCH_SERVES */
  maxConcurrentServes?: number
}

export class FetchServer {
  private active = 0
  private readonly maxResponseBytes: number
  private readonly maxConcurrentServes: number

  constructor (
    private readonly components: Pick<FetchComponents, 'findRecords' | 'log'>,
    private readonly counters: FetchCounters,
    init: FetchServerInit = {}
  ) {
    this.maxResponseBytes = init.maxResponseBytes ?? MAX_FETCH_RESPONSE_BYTES
    this.maxConcurrentServes = init.maxConcurrentServes ?? MAX_CONCURRENT_FETCH_SERVES
  }

  /** Serves one inbound stream to completion; never throws (a hostile requester costs only its stream). */
  async serve (stream: FrameStream, peerId: string, signal?: AbortSignal): Promise<void> {
    if (this.active >= this.maxConcurrentServes) {
      this.counters.refusedBusy++
      await this.answerOnly(stream, encodeError('busy'))
      return
    }
    this.active++
    const budget = AbortSignal.timeout(FETCH_RESPONSE_TIMEOUT_MS)
    const deadline = signal === undefined ? budget : AbortSignal.any([signal, budget])
    const onAbort = (): void => { stream.abort(new SyncTimeoutError('fetch answer aborted')) }
    deadline.addEventListener('abort', onAbort, { once: true })
    try {
      const refs = await readRequestFrame(stream, { protocol: 'fetch', timeoutMs: FETCH_SERVER_REQUEST_TIMEOUT_MS, decode: decodeFetchRequest, log: this.components.log })
      if (refs === undefined) {
        this.counters.refusedInvalid++
        await stream.writeAll([encodeError('invalid')])
      } else {
        this.counters.served++
        const frames = this.recordFrames(refs, deadline)
        try {
          await stream.writeAll(frames)
        } finally {
          void frames.return(undefined).catch(() => {})
        }
      }
      await stream.close({ signal: deadline })
    } catch (err) {
      this.components.log?.debug({ err, peer: peerId }, 'fetch: serving failed')
      stream.abort(err instanceof Error ? err : new Error('fetch serve failed'))
    } finally {
      deadline.removeEventListener('abort', onAbort)
      this.active--
    }
  }

  private async answerOnly (stream: FrameStream, frame: Uint8Array): Promise<void> {
    try {
      await stream.writeAll([frame])
      await stream.close({ signal: AbortSignal.timeout(FETCH_SERVER_REQUEST_TIMEOUT_MS) })
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error('fetch refused'))
    }
  }

  private async * recordFrames (refs: FetchRef[], signal: AbortSignal): AsyncGenerator<Frame> {
    let count = 0
    let bytes = 0
    let truncated = false
    for await (const record of this.components.findRecords(refs)) {
      if (signal.aborted) return
      if (record.byteLength === 0 || record.byteLength > MAX_RECORD_BYTES) continue
      if (count >= MAX_FETCH_RECORDS || (count > 0 && bytes + record.byteLength > this.maxResponseBytes)) {
        truncated = true
        break
      }
      yield encodeRecord(record)
      count++
      bytes += record.byteLength
    }
    this.counters.recordsServed += count
    yield encodeEnd(count, truncated)
  }
}
