/**
 * On-demand fetch of records by reference (`?resolve=true` on the trace routes): asks connected
 * peers, a few at a time, for the records they hold that match a list of references, and answers
 * the same question for them. Records are self-verifying, so any peer may answer; every record
 * goes through the node's receiveFetched (verification, match with the request, trust) before it
 * is kept. A peer that sends a record invalid for every node, or one nobody asked for, is cut off
 * for the rest of that request.
 */
import { isCdgossipError } from '../../errors.js'
import { KeyedSlots } from '../sync/keyed-slots.js'
import { MAX_FRAME_BYTES } from '../sync/protocol.js'
import { toFrameStream } from '../sync/stream-adapter.js'
import { FetchServer } from './fetch-server.js'
import { requestRecords } from './fetch-client.js'
import { fetchProtocol, MAX_FETCH_REFS } from './protocol.js'
import type { ResolutionRefusal, TraceRef } from '../../contracts/trace.js'
import type { FetchComponents, FetchCounters } from './types.js'
import type { IncomingStreamData, PeerId } from '@libp2p/interface'

/** Peers asked at once: enough to find a record quickly, few enough not to flood a small federation. */
export const FETCH_PEERS_AT_ONCE = 3
/** Peers asked per request in all; past these the record is taken as not to be had. */
export const MAX_FETCH_PEERS = 9
/** One peer's whole exchange (dial, request, answer and its verification). */
export const FETCH_REQUEST_TIMEOUT_MS = 3_000
/** Fetch streams this node opens to one peer at once (concurrent trace requests share them). */
export const MAX_FETCH_STREAMS_PER_PEER = 2
/**
 * Fetch streams accepted per connection: what one peer may cost this node at once (the server's
 * global cap bounds all peers together). Above MAX_FETCH_STREAMS_PER_PEER, as in sync: a stream
 * the requester is done with can still count while its close travels, and libp2p resets a stream
 * over the limit.
 */
export const MAX_FETCH_INBOUND_STREAMS = 2 * MAX_FETCH_STREAMS_PER_PEER

/** Codes of a genuine record this node does not keep: the signer's business, not the sending peer's fault. */
const NOT_THE_PEERS_FAULT = new Set(['CDG_UNTRUSTED_SIGNER', 'CDG_UNTRUSTED_FORWARDED', 'CDG_CONFLICTING_EVENT', 'CDG_DUPLICATE_EVENT'])

export interface FetchInit {
  /** the network name, part of the protocol id */
  network: string
  /** @default FETCH_REQUEST_TIMEOUT_MS */
  requestTimeoutMs?: number
}

/** What one fetch brought: records newly stored, who supplied them, and what was refused. */
export interface FetchReport {
  stored: number
  peers: string[]
  refused: ResolutionRefusal[]
  /** references matched by a record that is now held (stored now or before), by position in the request */
  matched: Set<number>
}

export class FetchService {
  readonly protocol: string
  private readonly server: FetchServer
  private readonly slots = new KeyedSlots(MAX_FETCH_STREAMS_PER_PEER)
  private readonly counters: FetchCounters = { requested: 0, failed: 0, served: 0, recordsServed: 0, refusedBusy: 0, refusedInvalid: 0 }
  private readonly requestTimeoutMs: number
  private controller: AbortController | undefined

  constructor (private readonly components: FetchComponents, init: FetchInit) {
    this.protocol = fetchProtocol(init.network)
    this.requestTimeoutMs = init.requestTimeoutMs ?? FETCH_REQUEST_TIMEOUT_MS
    this.server = new FetchServer(components, this.counters)
  }

  async start (): Promise<void> {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    await this.components.libp2p.handle(this.protocol, this.onStream, { maxInboundStreams: MAX_FETCH_INBOUND_STREAMS })
  }

  async stop (): Promise<void> {
    if (this.controller === undefined) return
    this.controller.abort()
    this.controller = undefined
    try {
      await this.components.libp2p.unhandle(this.protocol)
    } catch (err) {
      this.components.log?.debug({ err }, 'fetch: unhandle failed')
    }
  }

  /** Counters for GET /v1/node (`fetch.*`). */
  state (): FetchCounters {
    return { ...this.counters }
  }

  /**
   * Asks connected peers for `refs` (at most MAX_FETCH_REFS), FETCH_PEERS_AT_ONCE at a time, up to
   * MAX_FETCH_PEERS; context references already matched are not asked of the next peers. Never
   * throws for a peer's failure; aborts with `signal`.
   */
  async fetch (refs: readonly TraceRef[], options: { signal?: AbortSignal } = {}): Promise<FetchReport> {
    const report: FetchReport = { stored: 0, peers: [], refused: [], matched: new Set() }
    const own = this.controller?.signal
    if (own === undefined || refs.length === 0) return report
    const signal = options.signal === undefined ? own : AbortSignal.any([own, options.signal])
    const wanted = refs.slice(0, MAX_FETCH_REFS)
    const peers = this.components.libp2p.getPeers().slice(0, MAX_FETCH_PEERS)
    for (let i = 0; i < peers.length && !signal.aborted; i += FETCH_PEERS_AT_ONCE) {
      // an entity or a chain may have more events elsewhere; a context id names one event
      const ask = wanted.filter((ref, n) => ref.kind !== 'context' || !report.matched.has(n))
      if (ask.length === 0) break
      await Promise.all(peers.slice(i, i + FETCH_PEERS_AT_ONCE).map(async peer => { await this.ask(peer, ask, wanted, report, signal) }))
    }
    return report
  }

  private async ask (peer: PeerId, ask: readonly TraceRef[], wanted: readonly TraceRef[], report: FetchReport, outer: AbortSignal): Promise<void> {
    const from = peer.toString()
    const signal = AbortSignal.any([outer, AbortSignal.timeout(this.requestTimeoutMs)])
    let release: (() => void) | undefined
    this.counters.requested++
    try {
      release = await this.slots.acquire(from, signal)
      const raw = await this.components.libp2p.dialProtocol(peer, this.protocol, { signal })
      const stream = toFrameStream(raw, { maxFrameBytes: MAX_FRAME_BYTES })
      const onAbort = (): void => { stream.abort(new Error('fetch request aborted')) }
      signal.addEventListener('abort', onAbort, { once: true })
      try {
        await requestRecords(stream, ask, async bytes => { await this.take(bytes, from, ask, wanted, report) })
        await stream.close({ signal })
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    } catch (err) {
      this.counters.failed++
      this.components.log?.debug({ err, peer: from }, 'fetch: request to a peer failed')
    } finally {
      release?.()
    }
  }

  /** One record of an answer; rethrows what cuts the peer off. */
  private async take (bytes: Uint8Array, from: string, ask: readonly TraceRef[], wanted: readonly TraceRef[], report: FetchReport): Promise<void> {
    try {
      const { status, matched } = await this.components.receiveFetched(bytes, { from, refs: ask })
      for (const ref of matched) report.matched.add(wanted.indexOf(ref))
      if (status === 'stored') {
        report.stored++
        if (!report.peers.includes(from)) report.peers.push(from)
      }
    } catch (err) {
      if (!isCdgossipError(err)) throw err
      const origin = (err.details as { origin?: unknown } | undefined)?.origin
      report.refused.push({ from, code: err.code, ...(typeof origin === 'string' ? { origin } : {}) })
      if (!NOT_THE_PEERS_FAULT.has(err.code)) throw err
    }
  }

  private readonly onStream = ({ stream, connection }: IncomingStreamData): void => {
    const signal = this.controller?.signal
    const frames = toFrameStream(stream, { maxFrameBytes: MAX_FRAME_BYTES })
    if (signal === undefined) {
      frames.abort(new Error('fetch stopped'))
      return
    }
    void this.server.serve(frames, connection.remotePeer.toString(), signal)
  }
}
