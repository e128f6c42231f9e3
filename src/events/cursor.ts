import { InvalidRequestError } from '../errors.js'

const CURSOR_RE = /^(?:0|[1-9a-z][0-9a-z]{0,10})$/

/** Opaque external cursor: the arrival counter in base36, no padding (`0` = before everything). */
export function encodeCursor (counter: number): string {
  return counter.toString(36)
}

/** Validates an untrusted cursor; a malformed or non-canonical one is an InvalidRequestError. */
export function decodeCursor (cursor: string): number {
  if (typeof cursor !== 'string' || !CURSOR_RE.test(cursor)) {
    throw new InvalidRequestError('malformed cursor', { cursor: typeof cursor === 'string' ? cursor.slice(0, 32) : typeof cursor })
  }
  const counter = parseInt(cursor, 36)
  if (!Number.isSafeInteger(counter)) {
    throw new InvalidRequestError('cursor out of range', { cursor })
  }
  return counter
}
