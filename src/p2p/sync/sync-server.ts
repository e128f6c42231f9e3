/**
 * The serving side of `/cdgossip/sync/1.0.0`: answers one request per stream from the node's store,
 * streaming records straight from readSequenceRange so a page is never held in memory.
 */
import {
  decodeRequest, encodeEnd, encodeError, encodeRecord, encodeSummary, isWireClass, isWireOrigin,
  MAX_RECORD_BYTES, MAX_SUMMARY_ENTRIES, SUMMARY_CHUNK_ENTRIES
} from './protocol.js'
import { SyncTimeoutError } from './errors.js'
import type { RangeRequest, SummaryEntry, SummaryRequest } from './protocol.js'
import { readRequestFrame } from './stream-adapter.js'
import type { Frame, FrameStream } from './stream-adapter.js'
import type { SyncComponents } from './types.js'

/** A requester must send its request this soon after opening the stream. */
export const SERVER_REQUEST_TIMEOUT_MS = 5_000
/** Whole-response budget: a requester that reads slowly cannot pin a store iterator for long. */
export const SERVER_RESPONSE_TIMEOUT_MS = 30_000
/** Record bytes per page: PAGE_SIZE records of MAX_RECORD_BYTES would be 250 MiB. */
export const MAX_PAGE_BYTES = 16 * 1024 * 1024
/** Requests served at once across all peers (each holds a store iterator). */
export const MAX_CONCURRENT_SERVES = 16

export type SyncServerComponents = Pick<SyncComponents, 'sequenceStates' | 'readSequenceRange' | 'log'>

export interface SyncServerInit {
  /** @default SERVER_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number
  /** @default SERVER_RESPONSE_TIMEOUT_MS */
  responseTimeoutMs?: number
  /** @default MAX_PAGE_BYTES */
  maxPageBytes?: number
  /** @default MAX_CONCURRENT_SERVES */
  maxConcurrentServes?: number
}

export class SyncServer {
  private readonly components: SyncServerComponents
  private readonly requestTimeoutMs: number
  private readonly responseTimeoutMs: number
  private readonly maxPageBytes: number
  private readonly maxConcurrentServes: number
  private active = 0

  constructor (components: SyncServerComponents, init: SyncServerInit = {}) {
    this.components = components
    this.requestTimeoutMs = init.requestTimeoutMs ?? SERVER_REQUEST_TIMEOUT_MS
    this.responseTimeoutMs = init.responseTimeoutMs ?? SERVER_RESPONSE_TIMEOUT_MS
    this.maxPageBytes = init.maxPageBytes ?? MAX_PAGE_BYTES
    this.maxConcurrentServes = init.maxConcurrentServes ?? MAX_CONCURRENT_SERVES
  }

  get serving (): number {
    return this.active
  }

  /**
   * Serves one inbound stream to completion. Never throws: a broken or hostile requester only
   * costs its own stream.
   */
  async serve (stream: FrameStream, peerId: string, signal?: AbortSignal): Promise<void> {
    const log = this.components.log
    if (this.active >= this.maxConcurrentServes) {
      try {
        await stream.writeAll([encodeError('busy')])
        await stream.close({ signal: AbortSignal.timeout(this.requestTimeoutMs) })
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error('sync busy'))
      }
      return
    }
    this.active++
    const budget = AbortSignal.timeout(this.responseTimeoutMs)
    const deadline = signal === undefined ? budget : AbortSignal.any([signal, budget])
    const onAbort = (): void => { stream.abort(new SyncTimeoutError('sync response aborted')) }
    deadline.addEventListener('abort', onAbort, { once: true })
    try {
      const request = await readRequestFrame(stream, { protocol: 'sync', timeoutMs: this.requestTimeoutMs, decode: decodeRequest, log: this.components.log })
      if (request === undefined) {
        await stream.writeAll([encodeError('invalid')])
      } else {
        const frames = request.type === 'summary' ? this.summaryFrames(request) : this.rangeFrames(request, deadline)
        try {
          await stream.writeAll(frames)
        } finally {
          // the sink may give up on its source without ending it: release the store iterator now
          void frames.return(undefined).catch(() => {})
        }
      }
      await stream.close({ signal: deadline })
    } catch (err) {
      log?.debug({ err, peer: peerId }, 'sync: serving failed')
      stream.abort(err instanceof Error ? err : new Error('sync serve failed'))
    } finally {
      deadline.removeEventListener('abort', onAbort)
      this.active--
    }
  }

  private async * summaryFrames (request: SummaryRequest): AsyncGenerator<Frame> {
    const classes = [...new Set(request.classes)]
    const wanted = new Set(classes)
    const states = classes.length === 0 ? [] : await this.components.sequenceStates(classes)
    const entries: SummaryEntry[] = []
    const seen = new Set<string>()
    let truncated = false
    for (const state of states) {
      if (!wanted.has(state.eventClass) || !isWireOrigin(state.origin) || !isWireClass(state.eventClass)) continue
      if (!Number.isSafeInteger(state.highest) || state.highest < 1) continue
      const key = `${state.origin}\n${state.eventClass}`
      if (seen.has(key)) continue
      if (entries.length >= MAX_SUMMARY_ENTRIES) {
        truncated = true
        break
      }
      seen.add(key)
      const contiguous = Number.isSafeInteger(state.contiguous) ? Math.max(0, Math.min(state.contiguous, state.highest)) : 0
      entries.push({ origin: state.origin, eventClass: state.eventClass, highest: state.highest, contiguous })
    }
    for (let i = 0; i < entries.length; i += SUMMARY_CHUNK_ENTRIES) {
      yield encodeSummary(entries.slice(i, i + SUMMARY_CHUNK_ENTRIES))
    }
    yield encodeEnd(entries.length, truncated)
  }

  private async * rangeFrames (request: RangeRequest, signal: AbortSignal): AsyncGenerator<Frame> {
    let count = 0
    let bytes = 0
    let truncated = false
    // leaving this loop (limit, byte budget, abort) closes the store iterator
    for await (const record of this.components.readSequenceRange(request.origin, request.eventClass, request.from, request.to)) {
      if (signal.aborted) return
      // a record the requester must refuse would only get this node penalised
      if (record.byteLength === 0 || record.byteLength > MAX_RECORD_BYTES) continue
      if (count > 0 && bytes + record.byteLength > this.maxPageBytes) {
        truncated = true
        break
      }
      yield encodeRecord(record)
      count++
      bytes += record.byteLength
      if (count >= request.limit) break
    }
    yield encodeEnd(count, truncated)
  }
}
