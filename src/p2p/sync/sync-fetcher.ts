import { isCdgossipError } from '../../errors.js'
import { firstFreeRun } from './intervals.js'
import type { IntervalSet } from './intervals.js'
import { LOCAL_FAILURE, NOT_PEER_FAULT, refusedSequence } from './failures.js'
import type { PairState, PairTable } from './pair-table.js'
import { KeyedSlots } from './keyed-slots.js'
import type { PeerBook } from './peer-book.js'
import { MAX_FRAME_BYTES, SYNC_PROTOCOL } from './protocol.js'
import { SyncAbortedError, SyncProtocolError, SyncTimeoutError } from './errors.js'
import { requestRange } from './sync-client.js'
import { toFrameStream } from './stream-adapter.js'
import type { FrameStream } from './stream-adapter.js'
import type { SyncComponents } from './types.js'
import type { EventClass } from '../../events/types.js'
import type { PeerId } from '@libp2p/interface'

/**
 * Sync streams this node opens to one peer at once (a session's pairs and gap fills share them);
 * more exchanges wait for a free one.
 */
export const MAX_STREAMS_PER_PEER = 4

/** What sync's fetches came to, since construction (SyncState). */
export interface Counters {
  fetched: number
  duplicates: number
  relayed: number
  refused: number
  rejected: number
}

/**
 * Fetching records of one pair from one peer: bounded exchanges on the peer's sync streams, each
 * answer's records handed to the receive path and checked against what was asked, and the pair's
 * in-flight, settled and gap sets kept so concurrent sessions never ask for the same sequence.
 * SyncService decides when and from whom; this decides how.
 */
export class SyncFetcher {
  private readonly streamSlots = new KeyedSlots(MAX_STREAMS_PER_PEER)

  constructor (
    private readonly components: SyncComponents,
    private readonly init: { pageSize: number, requestTimeoutMs: number },
    private readonly pairs: PairTable,
    private readonly peers: PeerBook,
    private readonly counters: Counters
  ) {}

  /**
   * Fetches every sequence of [from, to] that is not in flight, settled, or already asked of this
   * peer, one page (at most pageSize records) per request. Each request claims the whole free run
   * it covers, so a peer that holds only part of it (a hole, or a history that starts later) skips
   * the hole in one answer, and a peer that lies about its highest costs one empty answer.
   * Resolves with the number of records stored.
   */
  async fetchMissing (peer: PeerId, origin: string, eventClass: EventClass, from: number, to: number, pair: PairState, tried: IntervalSet, signal: AbortSignal): Promise<number> {
    const record = this.peers.get(peer.toString())
    // refused by this node's policy: known, never fetched again until the policy changes
    const refused = this.pairs.refusedSet(origin, eventClass)
    let stored = 0
    for (;;) {
      signal.throwIfAborted()
      this.pairs.expireSettled(pair)
      const run = firstFreeRun(from, to, [pair.inflight, pair.settled, tried, refused], to - from + 1)
      if (run === undefined) return stored
      const [first, last] = run
      pair.inflight.add(first, last)
      record.inFlight++
      try {
        const page = await this.fetchPage(peer, origin, eventClass, first, last, pair, signal)
        stored += page.stored
        tried.add(first, page.answered)
      } finally {
        pair.inflight.remove(first, last)
        record.inFlight--
      }
    }
  }

  /**
   * One range request. `answered` is the end of the span this answer settles for this peer: all of
   * [first, last] when the peer sent fewer records than the limit, else up to the last record.
   */
  private async fetchPage (peer: PeerId, origin: string, eventClass: EventClass, first: number, last: number, pair: PairState, signal: AbortSignal): Promise<{ stored: number, answered: number }> {
    const from = peer.toString()
    const limit = Math.min(this.init.pageSize, last - first + 1)
    let previous = first - 1
    let stored = 0
    // genuine records refused before their sequence was known (untrusted signer, conflict)
    let unnamed = 0
    const end = await this.exchange(peer, signal, async stream => await requestRange(
      stream,
      { type: 'range', origin, eventClass, from: first, to: last, limit },
      async bytes => await this.components.receiveRecord(bytes, { expectedClass: eventClass, from, via: 'sync' })
        .then((outcome) => ({ outcome }), (err: unknown) => ({ err })),
      result => {
        if ('err' in result) {
          const { err } = result
          if (isCdgossipError(err) && NOT_PEER_FAULT.has(err.code)) {
            if (err.code === 'CDG_DUPLICATE_EVENT') this.counters.duplicates++
            else if (err.code === 'CDG_CONFLICTING_EVENT') this.counters.rejected++
            else this.counters.refused++
            // a policy refusal names the genuine record's sequence: settle exactly that one
            const sequence = refusedSequence(err.details, origin, eventClass)
            if (sequence !== undefined && sequence > previous && sequence <= last) {
              previous = sequence
              this.pairs.settle(pair, sequence, sequence)
              pair.gaps.remove(sequence)
              return
            }
            unnamed++
            return
          }
          if (!isCdgossipError(err) || !LOCAL_FAILURE.has(err.code)) this.counters.rejected++
          throw err
        }
        const { outcome } = result
        const { event } = outcome
        if (event.origin !== origin || event.eventClass !== eventClass || event.sequence <= previous || event.sequence > last) {
          this.counters.rejected++
          throw new SyncProtocolError('record is not the one requested or out of order', {
            origin, eventClass, first, last, got: { origin: event.origin, eventClass: event.eventClass, sequence: event.sequence }
          })
        }
        previous = event.sequence
        if (outcome.status === 'stored') {
          this.counters.fetched++
          stored++
        } else if (outcome.status === 'duplicate') {
          this.counters.duplicates++
        } else {
          this.counters.relayed++
        }
        this.pairs.settle(pair, event.sequence, event.sequence)
        pair.gaps.remove(event.sequence)
      }
    ))
    const complete = !end.truncated && end.count < limit
    // records are distinct and ascending, so the answer spans at least count sequences
    const answered = complete ? last : Math.min(last, Math.max(previous, first + end.count - 1))
    // Unnamed refusals sit somewhere in the answered span: settle it all so later rounds do not
    // fetch them again (sequences this peer lacked there wait for settledTtlMs; delayed, not lost).
    if (unnamed > 0) this.pairs.settle(pair, first, answered)
    return { stored, answered }
  }

  /**
   * One request/response on a fresh stream, within requestTimeoutMs. At most MAX_STREAMS_PER_PEER
   * run per peer; later ones wait for a stream, and the wait does not count against the budget.
   * A timeout surfaces as SyncTimeoutError and stop() as SyncAbortedError, whatever the stream reported.
   */
  async exchange<T>(peer: PeerId, parent: AbortSignal, fn: (stream: FrameStream) => Promise<T>): Promise<T> {
    let release: () => void
    try {
      release = await this.streamSlots.acquire(peer.toString(), parent)
    } catch (err) {
      throw new SyncAbortedError('sync aborted', err)
    }
    try {
      return await this.exchangeOnStream(peer, parent, fn)
    } finally {
      release()
    }
  }

  /** exchange() once this node holds one of its streams to `peer`; the time budget starts here. */
  private async exchangeOnStream<T>(peer: PeerId, parent: AbortSignal, fn: (stream: FrameStream) => Promise<T>): Promise<T> {
    const timeout = AbortSignal.timeout(this.init.requestTimeoutMs)
    const signal = AbortSignal.any([parent, timeout])
    let frames: FrameStream | undefined
    const onAbort = (): void => { frames?.abort(new SyncTimeoutError()) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const stream = await this.components.libp2p.dialProtocol(peer, SYNC_PROTOCOL, { signal })
      frames = toFrameStream(stream, { maxFrameBytes: MAX_FRAME_BYTES })
      signal.throwIfAborted()
      const result = await fn(frames)
      try {
        await frames.close({ signal })
      } catch {
        // the answer is complete; a remote that does not close cleanly only loses its stream
        frames.abort(new SyncProtocolError('sync stream not closed'))
      }
      return result
    } catch (err) {
      frames?.abort(err instanceof Error ? err : new Error('sync exchange failed'))
      if (parent.aborted) throw new SyncAbortedError('sync aborted', err)
      if (timeout.aborted) throw new SyncTimeoutError(`sync request to ${peer.toString()} timed out`, err)
      throw err
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }
}
