/**
 * The only file that touches the libp2p stream API. libp2p 2.x streams are duplexes (`source`
 * async iterable of Uint8ArrayList, `sink(iterable)`); 3.x replaces them with message streams, so a
 * move to 3.x rewrites this adapter and nothing else in sync/.
 */
import * as lp from 'it-length-prefixed'
import { SyncProtocolError, SyncTimeoutError } from './errors.js'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export type Frame = Uint8Array | Uint8ArrayList

/** Length-prefixed frames over one stream. */
export interface FrameStream {
  /**
   * The next frame, or undefined when the remote ended its side. A frame above the limit or a
   * broken length prefix throws SyncProtocolError; transport failures are rethrown as they come.
   */
  read(): Promise<Uint8Array | undefined>
  /** Writes the frames in order, then closes our writing side. Call once. */
  writeAll(frames: Iterable<Frame> | AsyncIterable<Frame>): Promise<void>
  /** Graceful close of both sides. */
  close(options?: { signal?: AbortSignal }): Promise<void>
  /** Immediate reset; pending reads and writes reject. */
  abort(err: Error): void
}

export interface FrameStreamInit {
  /** largest frame accepted from the remote; a larger length prefix fails before its body is read */
  maxFrameBytes: number
}

/** it-length-prefixed's failures: the remote sent bytes that are not a valid frame sequence. */
const FRAMING_ERRORS = new Set([
  'InvalidMessageLengthError',
  'InvalidDataLengthError',
  'InvalidDataLengthLengthError',
  'UnexpectedEOFError'
])

export function toFrameStream (stream: Stream, init: FrameStreamInit): FrameStream {
  const frames = lp.decode(stream.source, { maxDataLength: init.maxFrameBytes })[Symbol.asyncIterator]()
  // libp2p 2.x does not always wake a pending sink or source on abort (a stream already reset,
  // yamux waiting for send window): abort() rejects pending calls itself, so a stuck peer can
  // never hold a task (and with it SyncService.stop()) forever
  let abortedWith: Error | undefined
  const pending = new Set<(err: Error) => void>()
  const abortable = async <T>(work: Promise<T>): Promise<T> => {
    if (abortedWith !== undefined) throw abortedWith
    let fail: ((err: Error) => void) | undefined
    const aborted = new Promise<never>((_resolve, reject) => { fail = reject })
    pending.add(fail as (err: Error) => void)
    try {
      return await Promise.race([work, aborted])
    } finally {
      pending.delete(fail as (err: Error) => void)
    }
  }
  return {
    async read () {
      try {
        const next = await abortable(frames.next())
        return next.done === true ? undefined : next.value.subarray()
      } catch (err) {
        if (err instanceof Error && FRAMING_ERRORS.has(err.name)) {
          throw new SyncProtocolError('malformed or oversized frame', { name: err.name }, err)
        }
        throw err
      }
    },
    async writeAll (source) {
      await abortable(stream.sink(coalesce(lp.encode(toAsync(source)), WRITE_CHUNK_BYTES)))
    },
    async close (options = {}) {
      await stream.close(options)
    },
    abort (err) {
      abortedWith = err
      for (const fail of pending) fail(err)
      stream.abort(err)
    }
  }
}

/**
 * it-length-prefixed yields each frame's length prefix and body parts as separate pieces, and
 * each piece handed to the stream becomes its own yamux frame, Noise message and socket write:
 * three per record of a sync page. Gathered into chunks of up to this size (under Noise's 64 KiB
 * message), a page costs a few dozen of each instead of a thousand and more.
 */
export const WRITE_CHUNK_BYTES = 60 * 1024

/** Joins consecutive pieces into chunks of at most `maxBytes` (a larger piece goes alone); flushes at the end. */
export async function * coalesce (source: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = []
  let size = 0
  for await (const part of source) {
    if (size > 0 && size + part.byteLength > maxBytes) {
      yield Buffer.concat(parts, size)
      parts = []
      size = 0
    }
    parts.push(part)
    size += part.byteLength
  }
  if (size > 0) yield Buffer.concat(parts, size)
}

async function * toAsync (source: Iterable<Frame> | AsyncIterable<Frame>): AsyncGenerator<Frame> {
  yield * source
}

export interface RequestFrameInit<T> {
  /** the protocol's name, for the timeout's message and the log */
  protocol: string
  timeoutMs: number
  decode: (frame: Uint8Array) => T
  log?: { debug: (obj: object, msg: string) => void }
}

/**
 * A server's one request: read within the timeout (else the stream is aborted) and decoded;
 * undefined when the peer ended its side or sent a malformed request (a peer's bad bytes are
 * told at debug level only: no operator can act on them).
 */
export async function readRequestFrame<T> (stream: FrameStream, init: RequestFrameInit<T>): Promise<T | undefined> {
  const timer = setTimeout(() => { stream.abort(new SyncTimeoutError(`no ${init.protocol} request received`)) }, init.timeoutMs)
  let frame: Uint8Array | undefined
  try {
    frame = await stream.read()
  } finally {
    clearTimeout(timer)
  }
  if (frame === undefined) return undefined
  try {
    return init.decode(frame)
  } catch (err) {
    init.log?.debug({ err }, `${init.protocol}: invalid request`)
    return undefined
  }
}
