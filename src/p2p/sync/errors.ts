import { CdgossipError } from '../../errors.js'

/**
 * A sync peer broke the protocol: undecodable or oversized frame, a message that fails strict
 * validation, more records than asked for, records outside the requested range or out of order.
 * The peer is penalised; sync goes on with other peers.
 */
export class SyncProtocolError extends CdgossipError {
  constructor (message: string, details?: unknown, cause?: unknown) {
    super('CDG_SYNC_PROTOCOL', message, { details, cause })
    this.name = 'SyncProtocolError'
  }
}

/**
 * The peer refused to serve (busy, or it judged our request invalid). Same code as a protocol
 * violation, but sync backs off from the peer without lowering its score when `reason` is busy.
 */
export class SyncPeerRefusedError extends CdgossipError<{ reason: 'busy' | 'invalid' }> {
  constructor (reason: 'busy' | 'invalid') {
    super('CDG_SYNC_PROTOCOL', `sync peer refused the request: ${reason}`, { details: { reason } })
    this.name = 'SyncPeerRefusedError'
  }
}

/** A sync request did not complete within its time budget (no answer, or an answer too slow). */
export class SyncTimeoutError extends CdgossipError {
  constructor (message = 'sync request timed out', cause?: unknown) {
    super('CDG_TIMEOUT', message, { cause })
    this.name = 'SyncTimeoutError'
  }
}

/** The caller (or stop()) aborted a sync request. */
export class SyncAbortedError extends CdgossipError {
  constructor (message = 'sync aborted', cause?: unknown) {
    super('CDG_ABORTED', message, { cause })
    this.name = 'SyncAbortedError'
  }
}
