/**
 * Catch-up sync ("never lose an event"): gossip only repairs a few seconds of history, so a node
 * that was offline, joined late or dropped a message asks peers for the (origin, class) sequence
 * ranges it lacks. Records are self-verifying, so any peer may serve them; every fetched record goes
 * through receiveRecord exactly like a gossiped one.
 *
 * When: after identify on a new connection (if the peer speaks the protocol), every intervalMs,
 * and on demand through requestGap. How: ask a peer's summary, then fetch what is above our
 * contiguous point (and above the floor) in bounded pages, claiming each page in a per-pair
 * in-flight set first so concurrent sessions with several peers never ask for the same sequence.
 */
import { isCdgossipError, InvalidRequestError, NotStartedError } from '../../errors.js'
import { firstFreeRun, IntervalSet } from './intervals.js'
import { eachConcurrently } from './each-concurrently.js'
import { failureKind, isPeerFault } from './failures.js'
import { PairTable, pairKey } from './pair-table.js'
import type { PairState } from './pair-table.js'
import { MAX_STREAMS_PER_PEER, SyncFetcher, type Counters } from './sync-fetcher.js'
import { PeerBook } from './peer-book.js'
import {
  isWireClass, isWireOrigin, MAX_CONTROL_FRAME_BYTES, MAX_SUMMARY_CLASSES, PAGE_SIZE, SYNC_PROTOCOL
} from './protocol.js'
import { PairFloors } from './floor-policy.js'
import { requestSummary } from './sync-client.js'
import { MAX_CONCURRENT_SERVES, MAX_PAGE_BYTES, SERVER_REQUEST_TIMEOUT_MS, SERVER_RESPONSE_TIMEOUT_MS, SyncServer } from './sync-server.js'
import { toFrameStream } from './stream-adapter.js'
import type { SummaryEntry } from './protocol.js'
import type { SyncComponents, SyncInit, SyncState } from './types.js'
import type { SequenceState } from '../../events/records.js'
import type { EventClass } from '../../events/types.js'
import type { IdentifyResult, IncomingStreamData, PeerId } from '@libp2p/interface'

export { MAX_PAIR_INTERVALS, MAX_TRACKED_PAIRS, STALE_GAP_ROUNDS } from './pair-table.js'
export { MAX_STREAMS_PER_PEER } from './sync-fetcher.js'

export const SYNC_INTERVAL_MS = 30_000
/** Generous for 500 records verified at ~11k signatures/s plus store writes; a stalled peer waits no longer. */
export const REQUEST_TIMEOUT_MS = 10_000
export const MAX_CONCURRENT_SESSIONS = 4
export const MAX_GAP_PEERS = 3
export const BACKOFF_BASE_MS = 5_000
export const BACKOFF_MAX_MS = 10 * 60_000
export const SETTLED_TTL_MS = 10 * 60_000
/**
 * Sync streams accepted per connection. Above MAX_STREAMS_PER_PEER: a stream the client is done
 * with can still count here while its close travels, and libp2p resets a stream over the limit,
 * which fails that exchange.
 */
export const MAX_INBOUND_STREAMS = 2 * MAX_STREAMS_PER_PEER
/** Peers remembered for scores and backoff. */
export const MAX_TRACKED_PEERS = 1_024
/** A peer re-identifying (identify push, reconnects) starts a session at most this often. */
export const IDENTIFY_RESYNC_MS = 5_000
/** Widest requestGap: larger holes are the periodic sync's job. */
export const MAX_GAP_SPAN = 10 * PAGE_SIZE
/**
 * (origin, class) pairs fetched from one peer at once. One page at a time leaves both sides idle
 * while a page's stream opens and its first records travel; a few pages in flight keep the
 * verifier and the store busy. Each pair still fetches its own pages in order.
 */
const PAIRS_IN_FLIGHT = MAX_STREAMS_PER_PEER

type Status =
  | { kind: 'stopped' }
  | { kind: 'started', controller: AbortController, timer: ReturnType<typeof setInterval> }

/**
 * One state machine, kept in one file (about 450 lines, over the ~400 the code aims for): rounds,
 * per-peer sessions and gap requests all start, share and end through the same session map,
 * started/stopped status and pending-round flag, and a session's end is what starts the next round.
 * How a pair is fetched from a peer (sync-fetcher.ts), its floor (floor-policy.ts), the serving side
 * (sync-server.ts) and the per-pair and per-peer books (pair-table.ts, peer-book.ts) live beside it.
 */
export class SyncService {
  private readonly components: SyncComponents
  private readonly init: Required<SyncInit>
  private readonly server: SyncServer
  private readonly peers: PeerBook
  private readonly pairs: PairTable
  private readonly fetcher: SyncFetcher
  private readonly floors: PairFloors
  private readonly sessions = new Map<string, Promise<void>>()
  private readonly tasks = new Set<Promise<unknown>>()
  /** peers that identified while not yet due (resync spacing or backoff): their session, when due */
  private readonly deferred = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly counters: Counters = { fetched: 0, duplicates: 0, relayed: 0, refused: 0, rejected: 0 }
  private status: Status = { kind: 'stopped' }
  private transition: Promise<void> | undefined
  private roundPending = false
  /** rounds run since construction, to age gaps */
  private rounds = 0

  constructor (components: SyncComponents, init: SyncInit = {}) {
    this.components = components
    this.init = {
      intervalMs: init.intervalMs ?? SYNC_INTERVAL_MS,
      requestTimeoutMs: init.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
      pageSize: Math.max(1, Math.min(PAGE_SIZE, init.pageSize ?? PAGE_SIZE)),
      maxConcurrentSessions: Math.max(1, init.maxConcurrentSessions ?? MAX_CONCURRENT_SESSIONS),
      maxGapPeers: Math.max(1, init.maxGapPeers ?? MAX_GAP_PEERS),
      backoffBaseMs: init.backoffBaseMs ?? BACKOFF_BASE_MS,
      backoffMaxMs: init.backoffMaxMs ?? BACKOFF_MAX_MS,
      settledTtlMs: init.settledTtlMs ?? SETTLED_TTL_MS,
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxConcurrentServes: init.maxConcurrentServes ?? MAX_CONCURRENT_SERVES,
      serverRequestTimeoutMs: init.serverRequestTimeoutMs ?? SERVER_REQUEST_TIMEOUT_MS,
      serverResponseTimeoutMs: init.serverResponseTimeoutMs ?? SERVER_RESPONSE_TIMEOUT_MS,
      maxPageBytes: init.maxPageBytes ?? MAX_PAGE_BYTES
    }
    this.server = new SyncServer(components, {
      requestTimeoutMs: this.init.serverRequestTimeoutMs,
      responseTimeoutMs: this.init.serverResponseTimeoutMs,
      maxPageBytes: this.init.maxPageBytes,
      maxConcurrentServes: this.init.maxConcurrentServes
    })
    this.pairs = new PairTable(components, { settledTtlMs: this.init.settledTtlMs })
    this.peers = new PeerBook({
      backoffBaseMs: this.init.backoffBaseMs,
      backoffMaxMs: this.init.backoffMaxMs,
      maxPeers: MAX_TRACKED_PEERS
    })
    this.floors = new PairFloors(components)
    this.fetcher = new SyncFetcher(components, this.init, this.pairs, this.peers, this.counters)
  }

  isStarted (): boolean {
    return this.status.kind === 'started'
  }

  async start (): Promise<void> {
    if (this.transition !== undefined) await this.transition
    if (this.status.kind === 'started') return
    this.transition = this.doStart()
    try {
      await this.transition
    } finally {
      this.transition = undefined
    }
  }

  async stop (): Promise<void> {
    if (this.transition !== undefined) await this.transition
    if (this.status.kind === 'stopped') return
    this.transition = this.doStop()
    try {
      await this.transition
    } finally {
      this.transition = undefined
    }
  }

  private async doStart (): Promise<void> {
    const { libp2p } = this.components
    await libp2p.handle(SYNC_PROTOCOL, this.onStream, { maxInboundStreams: this.init.maxInboundStreams })
    const controller = new AbortController()
    const timer = setInterval(() => { this.runRound() }, this.init.intervalMs)
    timer.unref()
    libp2p.addEventListener('peer:identify', this.onIdentify)
    this.status = { kind: 'started', controller, timer }
    // peers connected before start
    this.runRound()
  }

  private async doStop (): Promise<void> {
    if (this.status.kind !== 'started') return
    const { controller, timer } = this.status
    this.status = { kind: 'stopped' }
    controller.abort()
    clearInterval(timer)
    for (const pending of this.deferred.values()) clearTimeout(pending)
    this.deferred.clear()
    this.components.libp2p.removeEventListener('peer:identify', this.onIdentify)
    try {
      await this.components.libp2p.unhandle(SYNC_PROTOCOL)
    } catch (err) {
      // libp2p may already be stopped; the handler goes with it
      this.components.log?.debug({ err }, 'sync: unhandle failed')
    }
    await Promise.allSettled([...this.tasks])
  }

  /**
   * Runs one round now (the peers least recently tried first, up to maxConcurrentSessions at once)
   * and resolves when every session it started has ended. Failures are recorded per peer, not thrown.
   */
  async syncNow (): Promise<void> {
    this.signal()
    this.runRound()
    await Promise.allSettled([...this.sessions.values()])
  }

  /**
   * Syncs with one peer now, ignoring its backoff, and rethrows the failure (SyncProtocolError,
   * SyncTimeoutError, SyncAbortedError, a receiveRecord error…) after recording it.
   */
  async syncWith (peer: PeerId): Promise<void> {
    const signal = this.signal()
    const id = peer.toString()
    for (let running = this.sessions.get(id); running !== undefined; running = this.sessions.get(id)) {
      await running
    }
    const session = this.session(peer, signal, true)
    const settled = session.catch(() => {}).finally(() => { this.sessions.delete(id) })
    this.sessions.set(id, settled)
    void this.track(settled)
    await session
  }

  /**
   * Starts a round now without waiting for it (a new subscription wants its history at once):
   * peers in a session already get another one when theirs ends. No-op while stopped.
   */
  requestRound (): void {
    if (this.status.kind !== 'started') return
    const busy = this.components.libp2p.getPeers().some(peer => this.sessions.has(peer.toString()))
    this.runRound()
    if (busy) this.roundPending = true
  }

  /**
   * The node's policy changed for these origins (a trust entry added or widened, the mode
   * changed): what sync settled for their pairs (records fetched and refused) is forgotten, and a
   * round starts at once, so refused history comes back from any peer that holds it.
   */
  resync (origins: readonly string[]): void {
    this.pairs.forgetSettled(new Set(origins))
    this.requestRound()
  }

  /**
   * The trust policy changed: forget the refusals it no longer stands behind and start a round at
   * once, so the records come back from any peer that holds them, without a restart.
   */
  policyChanged (origins: readonly string[]): void {
    const forgotten = this.components.refusals?.reconcile?.() ?? []
    if (forgotten.length > 0) this.components.log?.info({ origins: forgotten }, 'trust policy changed: records refused before are fetched again')
    this.resync([...new Set([...origins, ...forgotten])])
  }

  /**
   * Fetches sequences from..to of a pair from the best connected peers, for a gap the node saw (a
   * record arrived with sequence n+2 while n was the highest held → requestGap(origin, class, n+1)).
   * Only sequences above the pair's floor are fetched; the first gap of a pair with no floor and
   * nothing held fixes the floor (start point `now`: just below the record that revealed it).
   * Sequences in flight elsewhere or already handled are skipped, at most MAX_GAP_SPAN are asked.
   * Resolves with the number of records stored (0 while stopped); the rest stay counted in
   * state().gaps and are fetched by later rounds. Rejects only on invalid arguments
   * (InvalidRequestError), so a caller that does not await it may ignore failures with .catch().
   */
  async requestGap (origin: string, eventClass: EventClass, from: number, to: number = from): Promise<number> {
    if (!isWireOrigin(origin) || !isWireClass(eventClass)) throw new InvalidRequestError('sync gap: invalid origin or event class')
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from) {
      throw new InvalidRequestError('sync gap: invalid sequence range', { from, to })
    }
    // a hint from the receive path, which keeps running while sync stops: the next start repairs
    if (this.status.kind !== 'started') return 0
    const signal = this.status.controller.signal
    return await this.track(this.gap(origin, eventClass, from, to, signal))
  }

  private async gap (origin: string, eventClass: EventClass, from: number, to: number, signal: AbortSignal): Promise<number> {
    const pair = this.pairs.get(origin, eventClass)
    let floor = await this.floors.known(origin, eventClass, pair)
    if (floor === undefined && from === 1) {
      // Nothing held and no floor: the record just received (sequence to + 1) is the first news of
      // this pair, so under `now` everything before it is history.
      floor = await this.floors.fix(origin, eventClass, pair, this.floors.startPoint(eventClass) === 'beginning' ? 0 : to)
    }
    const first = Math.max(from, (floor ?? 0) + 1)
    if (first > to) return 0
    const last = Math.min(to, first + MAX_GAP_SPAN - 1)
    this.pairs.addGap(origin, eventClass, pair, first, last, this.rounds)
    return await this.fillGap(origin, eventClass, first, last, pair, signal)
  }

  state (): SyncState {
    const gaps = this.pairs.gapCount()
    return {
      peers: this.peers.all().map(p => ({
        peerId: p.peerId,
        ...(p.lastSyncAt === undefined ? {} : { lastSyncAt: new Date(p.lastSyncAt).toISOString() }),
        ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
        score: p.score,
        inFlight: p.inFlight,
        ...(p.backoffUntil > Date.now() ? { backoffUntil: new Date(p.backoffUntil).toISOString() } : {})
      })),
      gaps,
      ...this.counters
    }
  }

  private signal (): AbortSignal {
    if (this.status.kind !== 'started') throw new NotStartedError('SyncService')
    return this.status.controller.signal
  }

  private readonly onStream = ({ stream, connection }: IncomingStreamData): void => {
    if (this.status.kind !== 'started') {
      stream.abort(new NotStartedError('SyncService'))
      return
    }
    // requests are small control frames: a larger length prefix fails before its body is buffered
    const frames = toFrameStream(stream, { maxFrameBytes: MAX_CONTROL_FRAME_BYTES })
    void this.track(this.server.serve(frames, connection.remotePeer.toString(), this.status.controller.signal))
  }

  private readonly onIdentify = (event: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols } = event.detail
    const record = this.peers.get(peerId.toString())
    record.supported = protocols.includes(SYNC_PROTOCOL)
    if (!record.supported || this.status.kind !== 'started') return
    // A peer that comes back soon after its last session, or while backed off, is not asked now,
    // but when it is due: a node restarted after a crash may hold records nobody else has (ones it
    // acknowledged but had not gossiped yet), and the periodic round may be far away.
    const now = Date.now()
    const due = Math.max(record.lastAttemptAt === undefined ? 0 : record.lastAttemptAt + IDENTIFY_RESYNC_MS, record.backoffUntil)
    if (due > now) {
      this.deferSession(peerId, due - now)
      return
    }
    this.sessionOrRound(peerId)
  }

  private sessionOrRound (peer: PeerId): void {
    if (this.sessions.size >= this.init.maxConcurrentSessions) {
      this.roundPending = true
      return
    }
    this.startSession(peer)
  }

  /** One pending session per peer, dropped if the peer is no longer connected when it is due. */
  private deferSession (peer: PeerId, delayMs: number): void {
    const id = peer.toString()
    if (this.deferred.has(id)) return
    const timer = setTimeout(() => {
      this.deferred.delete(id)
      if (this.status.kind !== 'started') return
      if (!this.components.libp2p.getPeers().some(p => p.equals(peer))) return
      this.sessionOrRound(peer)
    }, delayMs)
    timer.unref()
    this.deferred.set(id, timer)
  }

  private runRound (): void {
    if (this.status.kind !== 'started') return
    this.roundPending = false
    this.rounds++
    this.reportStaleGaps()
    const now = Date.now()
    const candidates = this.components.libp2p.getPeers()
      .filter(peer => !this.sessions.has(peer.toString()) && this.peers.eligible(peer.toString(), now))
      .sort((a, b) => {
        const ra = this.peers.peek(a.toString())
        const rb = this.peers.peek(b.toString())
        return (ra?.lastAttemptAt ?? 0) - (rb?.lastAttemptAt ?? 0) || (rb?.score ?? 0) - (ra?.score ?? 0)
      })
    for (const peer of candidates) {
      if (this.sessions.size >= this.init.maxConcurrentSessions) {
        this.roundPending = true
        break
      }
      this.startSession(peer)
    }
  }

  private startSession (peer: PeerId): void {
    if (this.status.kind !== 'started') return
    const id = peer.toString()
    if (this.sessions.has(id)) return
    let peerFailed = false
    const session = this.session(peer, this.status.controller.signal, false)
      .catch((err: unknown) => { peerFailed = isPeerFault(failureKind(err)) })
      .finally(() => {
        this.sessions.delete(id)
        // The failed peer is now backed off: let the others fetch what it had claimed. Not after a
        // local failure (store down), which would only fail again at once.
        if (peerFailed || this.roundPending) this.runRound()
      })
    this.sessions.set(id, session)
    void this.track(session)
  }

  private async session (peer: PeerId, signal: AbortSignal, force: boolean): Promise<void> {
    const id = peer.toString()
    const record = this.peers.get(id)
    const now = Date.now()
    if (!force && !this.peers.eligible(id, now)) return
    record.lastAttemptAt = now
    try {
      const classes = [...new Set(this.components.wantedClasses())].filter(isWireClass)
      const tried = new Map<string, IntervalSet>()
      for (let i = 0; i < classes.length; i += MAX_SUMMARY_CLASSES) {
        const chunk = classes.slice(i, i + MAX_SUMMARY_CLASSES)
        const entries = await this.fetcher.exchange(peer, signal, async stream => await requestSummary(stream, chunk))
        if (entries.length === 0) continue
        const local = new Map<string, SequenceState>()
        for (const state of await this.components.sequenceStates(chunk)) local.set(pairKey(state.origin, state.eventClass), state)
        await eachConcurrently(entries, PAIRS_IN_FLIGHT, async entry => {
          signal.throwIfAborted()
          await this.fetchPair(peer, entry, local.get(pairKey(entry.origin, entry.eventClass)), tried, signal)
        })
      }
      this.peers.succeeded(id, Date.now())
    } catch (err) {
      this.recordFailure(id, err, signal)
      throw err
    }
  }

  private async fetchPair (peer: PeerId, entry: SummaryEntry, local: SequenceState | undefined, tried: Map<string, IntervalSet>, signal: AbortSignal): Promise<void> {
    const { origin, eventClass } = entry
    const pair = this.pairs.get(origin, eventClass)
    const floor = await this.floors.resolve(origin, eventClass, pair, local, entry.highest)
    // held or refused by policy: a pair whose only holes are refusals is complete
    const contiguous = this.components.refusals?.knownThrough(origin, eventClass, local?.contiguous ?? 0) ?? local?.contiguous ?? 0
    const lower = Math.max(floor, contiguous)
    pair.settled.removeUpTo(lower)
    pair.gaps.removeUpTo(contiguous)
    if (entry.highest <= lower) return
    const key = pairKey(origin, eventClass)
    let done = tried.get(key)
    if (done === undefined) {
      done = new IntervalSet()
      tried.set(key, done)
    }
    await this.fetcher.fetchMissing(peer, origin, eventClass, lower + 1, entry.highest, pair, done, signal)
  }

  private async fillGap (origin: string, eventClass: EventClass, from: number, to: number, pair: PairState, signal: AbortSignal): Promise<number> {
    const now = Date.now()
    const peers = this.components.libp2p.getPeers()
      .filter(peer => this.peers.eligible(peer.toString(), now))
      .sort((a, b) => (this.peers.peek(b.toString())?.score ?? 0) - (this.peers.peek(a.toString())?.score ?? 0))
      .slice(0, this.init.maxGapPeers)
    let stored = 0
    const refused = this.pairs.refusedSet(origin, eventClass)
    for (const peer of peers) {
      if (firstFreeRun(from, to, [pair.settled, refused], to - from + 1) === undefined) break
      try {
        stored += await this.fetcher.fetchMissing(peer, origin, eventClass, from, to, pair, new IntervalSet(), signal)
        this.peers.succeeded(peer.toString(), Date.now())
      } catch (err) {
        this.recordFailure(peer.toString(), err, signal)
        // stopping: what was stored counts, the rest stays a gap
        if (signal.aborted) break
      }
    }
    return stored
  }

  private recordFailure (peerId: string, err: unknown, signal: AbortSignal): void {
    const kind = signal.aborted ? 'local' : failureKind(err)
    const code = isCdgossipError(err) ? err.code : err instanceof Error ? err.name : 'UNKNOWN'
    if (kind === 'local') {
      this.components.log?.debug({ err, peer: peerId }, 'sync: stopped by a local failure')
      return
    }
    if (kind === 'unsupported') {
      this.peers.get(peerId).supported = false
      return
    }
    this.components.log?.debug({ err, peer: peerId, kind }, 'sync: peer failed')
    this.peers.failed(peerId, kind, code, Date.now())
  }

  /** Tells the node of pairs whose gap outlived STALE_GAP_ROUNDS rounds. */
  private reportStaleGaps (): void {
    const { staleGap } = this.components
    if (staleGap === undefined) return
    for (const gap of this.pairs.staleGaps(this.rounds)) {
      try {
        staleGap(gap.origin, gap.eventClass, gap.missing, gap.rounds)
      } catch (err) {
        this.components.log?.debug({ err }, 'sync: staleGap listener threw')
      }
    }
  }

  private async track<T>(task: Promise<T>): Promise<T> {
    this.tasks.add(task)
    try {
      return await task
    } finally {
      this.tasks.delete(task)
    }
  }
}
