/**
 * What sync remembers about each peer: a score that orders peers, and an exponential backoff that
 * keeps a failing or hostile peer out of sync for a while, so one bad peer never stalls catch-up.
 */

/** Score gained per successful exchange, up to MAX_SCORE: good peers are asked first. */
export const SCORE_SUCCESS = 1
export const MAX_SCORE = 10
/** Floor of the score, so a long-gone bad peer can earn its way back. */
export const MIN_SCORE = -100
/** Garbage, forged or out-of-range records, oversized frames, more records than asked. */
export const PENALTY_VIOLATION = -10
/** No answer, or an answer slower than the request budget. */
export const PENALTY_TIMEOUT = -5
/** Transport failures (reset stream, failed dial): may be honest, so a mild penalty. */
export const PENALTY_FAILURE = -2

export type FailureKind = 'violation' | 'timeout' | 'failure' | 'busy'

const PENALTY: Record<Exclude<FailureKind, 'busy'>, number> = {
  violation: PENALTY_VIOLATION,
  timeout: PENALTY_TIMEOUT,
  failure: PENALTY_FAILURE
}

export interface PeerRecord {
  readonly peerId: string
  score: number
  /** consecutive failures; drives the backoff */
  failures: number
  /** ms epoch before which the peer is skipped */
  backoffUntil: number
  lastAttemptAt?: number
  lastSyncAt?: number
  /** error code of the last failure, cleared by a success */
  lastError?: string
  /** range requests to this peer in flight */
  inFlight: number
  /** from identify: undefined until known */
  supported?: boolean
}

export interface PeerBookInit {
  backoffBaseMs: number
  backoffMaxMs: number
  maxPeers: number
}

export class PeerBook {
  private readonly peers = new Map<string, PeerRecord>()
  private readonly init: PeerBookInit

  constructor (init: PeerBookInit) {
    this.init = init
  }

  get (peerId: string): PeerRecord {
    let record = this.peers.get(peerId)
    if (record === undefined) {
      record = { peerId, score: 0, failures: 0, backoffUntil: 0, inFlight: 0 }
      this.peers.set(peerId, record)
      this.evict()
    }
    return record
  }

  peek (peerId: string): PeerRecord | undefined {
    return this.peers.get(peerId)
  }

  all (): PeerRecord[] {
    return [...this.peers.values()]
  }

  /** Whether sync may ask this peer now. */
  eligible (peerId: string, now: number): boolean {
    const record = this.peers.get(peerId)
    return record === undefined || (record.supported !== false && record.backoffUntil <= now)
  }

  succeeded (peerId: string, now: number): void {
    const record = this.get(peerId)
    record.score = Math.min(MAX_SCORE, record.score + SCORE_SUCCESS)
    record.failures = 0
    record.backoffUntil = 0
    record.lastSyncAt = now
    delete record.lastError
  }

  failed (peerId: string, kind: FailureKind, code: string, now: number): void {
    const record = this.get(peerId)
    record.lastError = code
    if (kind === 'busy') {
      // a busy peer is healthy: wait a little, keep its score
      record.backoffUntil = now + this.init.backoffBaseMs
      return
    }
    record.score = Math.max(MIN_SCORE, record.score + PENALTY[kind])
    record.failures++
    const delay = Math.min(this.init.backoffMaxMs, this.init.backoffBaseMs * 2 ** Math.min(record.failures - 1, 30))
    record.backoffUntil = now + delay
  }

  /** Bounded memory: forget the oldest idle peers beyond maxPeers. */
  private evict (): void {
    if (this.peers.size <= this.init.maxPeers) return
    for (const [id, record] of this.peers) {
      if (this.peers.size <= this.init.maxPeers) break
      if (record.inFlight === 0) this.peers.delete(id)
    }
  }
}
