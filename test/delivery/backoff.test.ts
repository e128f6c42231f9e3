import { describe, expect, it } from 'vitest'
import { backoffDelay, parseRetryAfter } from '../../src/delivery/index.js'

describe('backoff', () => {
  it('grows exponentially under a cap, with full jitter', () => {
    const options = { baseMs: 500, maxMs: 60_000 }
    expect([1, 2, 3, 4].map(n => backoffDelay(n, options, () => 0.999999))).toEqual([499, 999, 1999, 3999])
    expect(backoffDelay(20, options, () => 0.999999)).toBe(59_999)
    expect(backoffDelay(1000, options, () => 0.5)).toBe(30_000)
    expect(backoffDelay(5, options, () => 0)).toBe(0)
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-03-01T12:00:00Z')
    expect(parseRetryAfter('120', now)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
    expect(parseRetryAfter('1.5', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})
