import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { UnauthorizedError } from './errors.js'

const BEARER_PREFIX = /^Bearer[ \t]+/i

/**
 * Build the `onRequest` hook of the protected context. Both tokens are hashed before the
 * comparison so `timingSafeEqual` always sees equal-length buffers and the expected token's
 * length does not leak through an early length check.
 */
export function createBearerAuth (token: string): (request: FastifyRequest) => Promise<void> {
  const expected = sha256(token)
  return async function bearerAuth (request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization
    if (header === undefined || !BEARER_PREFIX.test(header)) throw new UnauthorizedError('missing')
    const presented = header.replace(BEARER_PREFIX, '').trim()
    if (presented === '') throw new UnauthorizedError('missing')
    if (!timingSafeEqual(sha256(presented), expected)) throw new UnauthorizedError('invalid')
  }
}

function sha256 (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
