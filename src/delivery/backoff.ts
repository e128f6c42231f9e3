/**
 * Retry timing: exponential backoff with full jitter (the delay is uniform in
 * [0, min(cap, base * 2^(n-1))]), so receivers recovering from an outage are not hit by every
 * node and every subscription in lockstep.
 */

export interface BackoffOptions {
  baseMs: number
  maxMs: number
}

/** Delay before the next attempt after `failedAttempts` (>= 1) consecutive failures. */
export function backoffDelay (failedAttempts: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30)
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent)
  const r = Math.min(Math.max(random(), 0), 1)
  return Math.floor(r * ceiling)
}

const DELAY_SECONDS = /^\d{1,10}$/

/**
 * The wait a `Retry-After` header asks for, in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unparseable; a date in the past means 0.
 */
export function parseRetryAfter (value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined
  const trimmed = value.trim()
  if (trimmed === '') return undefined
  if (DELAY_SECONDS.test(trimmed)) return Number(trimmed) * 1000
  // Only accept something that looks like a date, not any string Date.parse happens to take.
  if (!/[a-z]/i.test(trimmed) || trimmed.length > 64) return undefined
  const at = Date.parse(trimmed)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}
