import type { Logger } from 'pino'

/**
 * How long one (peer, reason) pair stays quiet after a warning: a bootstrap peer that is down is
 * redialled on every watchdog sweep (10 s), and an operator needs the first line, not one per sweep.
 * @default 300_000
 */
export const WARN_INTERVAL_MS = 5 * 60_000
/** Distinct keys remembered; the oldest is forgotten beyond this, so a peer churning IDs cannot grow it. */
export const MAX_WARN_KEYS = 1024

/**
 * Warn-level lines rate-limited per key (a reason and a peer). The first line for a key is logged at
 * once; repeats within WARN_INTERVAL_MS go to debug, and the next warning says how many were held back.
 */
export class WarnLimiter {
  private readonly last = new Map<string, { at: number, suppressed: number }>()

  constructor (
    private readonly log: Logger | undefined,
    private readonly intervalMs: number = WARN_INTERVAL_MS,
    private readonly now: () => number = Date.now
  ) {}

  /** Logs `msg` with `fields` unless `key` was warned about within the interval; true when logged. */
  warn (key: string, fields: Record<string, unknown>, msg: string): boolean {
    const now = this.now()
    const seen = this.last.get(key)
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++
      // every occurrence is still there for whoever runs at debug
      this.log?.debug({ ...fields, repeated: true }, msg)
      return false
    }
    const suppressed = seen?.suppressed ?? 0
    this.last.delete(key)
    this.last.set(key, { at: now, suppressed: 0 })
    if (this.last.size > MAX_WARN_KEYS) {
      const oldest = this.last.keys().next().value
      if (oldest !== undefined) this.last.delete(oldest)
    }
    this.log?.warn(suppressed > 0 ? { ...fields, suppressed } : fields, msg)
    return true
  }
}
