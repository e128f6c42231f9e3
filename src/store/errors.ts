import { CdgossipError, isCdgossipError } from '../errors.js'

/** A LevelDB failure (open, read, write, close), with the level error as `cause`. */
export class StoreError extends CdgossipError<{ operation: string }> {
  constructor (operation: string, cause?: unknown) {
    super('CDG_STORE', `store ${operation} failed`, { details: { operation }, cause })
    this.name = 'StoreError'
  }
}

/** A stored value that does not decode: disk corruption or a bug, never an input problem. */
export class CorruptRecordError extends CdgossipError<{ key: string, reason: string }> {
  constructor (key: string, reason: string) {
    super('CDG_STORE', `stored record ${key} is corrupt: ${reason}`, { details: { key, reason } })
    this.name = 'CorruptRecordError'
  }
}

export interface ConflictDetails {
  /** `source-id`: same (source, id), different content; `sequence`: the origin signed two records with one sequence number */
  kind: 'source-id' | 'sequence'
  /** the digest that was refused */
  digest: string
  /** the digest already held (first wins) */
  existingDigest: string
}

/**
 * A record that collides with one already held (or earlier in the same batch) on a unique key
 * while its content differs. The first record wins; nothing of the refused one is written.
 */
export class ConflictingEventError extends CdgossipError<ConflictDetails> {
  constructor (details: ConflictDetails) {
    super('CDG_CONFLICTING_EVENT', details.kind === 'source-id'
      ? 'an event with the same source and id but different content is already stored'
      : 'an event with the same origin, class and sequence but different content is already stored',
    { details })
    this.name = 'ConflictingEventError'
  }
}

/** An event the store cannot index (no positive sequence, malformed digest): a caller bug or a forgery that slipped through. */
export class UnstorableEventError extends CdgossipError<{ reason: string }> {
  constructor (reason: string) {
    super('CDG_INVALID_EVENT', `event cannot be stored: ${reason}`, { details: { reason } })
    this.name = 'UnstorableEventError'
  }
}

/** Keeps our own errors as they are and turns anything level throws into a StoreError. */
export function asStoreError (operation: string, err: unknown): Error {
  return isCdgossipError(err) ? err : new StoreError(operation, err)
}

/** Runs one LevelDB call (a read or a write), reporting what level throws as a StoreError. */
export async function levelCall<T> (operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw asStoreError(operation, err)
  }
}
