import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { ReadOnlySessionError, UnauthorizedError } from './errors.js'
import type { UiSessions } from './ui-sessions.js'

const BEARER_PREFIX = /^Bearer[ \t]+/i
/** What a session cookie may do: read. SameSite=Strict keeps other sites from sending it, read-only keeps a page's bug from changing state. */
const READ_METHODS = new Set(['GET', 'HEAD'])

/** True when `presented` is the token; both are hashed so the comparison leaks neither length nor prefix. */
export function tokenMatcher (token: string): (presented: string) => boolean {
  const expected = sha256(token)
  return presented => timingSafeEqual(sha256(presented), expected)
}

/**
 * Build the `onRequest` hook of the protected context: the bearer token opens every route; the
 * web page's session cookie (see ui.ts) opens reads only, and a state change with only the
 * cookie is refused with CDG_READ_ONLY_SESSION rather than 401, so the page can say why.
 */
export function createApiAuth (token: string, sessions: UiSessions): (request: FastifyRequest) => Promise<void> {
  const isToken = tokenMatcher(token)
  return async function apiAuth (request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization
    if (header === undefined) {
      const session = sessions.idFrom(request.headers.cookie)
      if (session !== undefined && sessions.isOpen(session)) {
        if (READ_METHODS.has(request.method)) return
        throw new ReadOnlySessionError(request.method)
      }
      throw new UnauthorizedError('missing')
    }
    if (!BEARER_PREFIX.test(header)) throw new UnauthorizedError('missing')
    const presented = header.replace(BEARER_PREFIX, '').trim()
    if (presented === '') throw new UnauthorizedError('missing')
    if (!isToken(presented)) throw new UnauthorizedError('invalid')
  }
}

function sha256 (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
