import { isCdgossipError } from '../../errors.js'
import { SyncAbortedError, SyncPeerRefusedError, SyncTimeoutError } from './errors.js'
import type { FailureKind } from './peer-book.js'
import type { EventClass } from '../../events/types.js'

/** receiveRecord refusals that are not the serving peer's fault: it relayed a genuine record. */
export const NOT_PEER_FAULT = new Set(['CDG_DUPLICATE_EVENT', 'CDG_UNTRUSTED_SIGNER', 'CDG_UNTRUSTED_FORWARDED', 'CDG_CONFLICTING_EVENT'])
/** receiveRecord failures on our side (store down, shutting down): stop, blame nobody. */
export const LOCAL_FAILURE = new Set(['CDG_STORE', 'CDG_NOT_STARTED', 'CDG_ABORTED'])

/** The sequence a policy refusal names (the pipeline adds it to the error's details), when it is of this pair. */
export function refusedSequence (details: unknown, origin: string, eventClass: EventClass): number | undefined {
  if (details === null || typeof details !== 'object') return undefined
  const d = details as { origin?: unknown, eventClass?: unknown, sequence?: unknown }
  if (d.origin !== origin || d.eventClass !== eventClass || !Number.isSafeInteger(d.sequence)) return undefined
  return d.sequence as number
}

export function isPeerFault (kind: FailureKind | 'local' | 'unsupported'): kind is FailureKind {
  return kind !== 'local' && kind !== 'unsupported'
}

/** Whom a failed exchange blames: the peer (by kind), nobody (`local`), or the protocol it lacks. */
export function failureKind (err: unknown): FailureKind | 'local' | 'unsupported' {

  if (err instanceof SyncAbortedError) return 'local'
  if (err instanceof SyncPeerRefusedError) return err.details?.reason === 'busy' ? 'busy' : 'violation'
  if (err instanceof SyncTimeoutError) return 'timeout'
  if (isCdgossipError(err)) return LOCAL_FAILURE.has(err.code) ? 'local' : 'violation'
  if (err instanceof Error && err.name === 'UnsupportedProtocolError') return 'unsupported'
  return 'failure'
}
