/**
 * How often one key (a peer and a reason, an origin and a reason…) may log: the first occurrence
 * at once, then at most one line per interval carrying how many were held back. A peer sending a
 * thousand forged records a second costs one warn line a minute, and an operator still sees the
 * first one the moment it happens.
 * @default 60_000
 */
export const LOG_INTERVAL_MS = 60_000
/**
 * Keys remembered. Keys come from the network (peer IDs, origins), so the map is bounded; when it
 * is full the oldest key is forgotten, which at worst lets that key log once more.
 * @default 1_024
 */
export const MAX_LOG_KEYS = 1_024

export interface LogLimiterInit {
  /** @default LOG_INTERVAL_MS */
  intervalMs?: number
  /** @default MAX_LOG_KEYS */
  maxKeys?: number
  /** injected clock for tests @default Date.now */
  now?: () => number
}

interface KeyState {
  lastAt: number
  suppressed: number
}

/** A small per-key rate limiter for log lines. */
export class LogLimiter {
  private readonly intervalMs: number
  private readonly maxKeys: number
  private readonly now: () => number
  private readonly keys = new Map<string, KeyState>()

  constructor (init: LogLimiterInit = {}) {
    this.intervalMs = init.intervalMs ?? LOG_INTERVAL_MS
    this.maxKeys = init.maxKeys ?? MAX_LOG_KEYS
    this.now = init.now ?? Date.now
  }

  /**
   * Whether a line for `key` may be written now. When it may, `suppressed` is how many were held
   * back since the last line for that key (0 for the first).
   */
  take (key: string): { log: false } | { log: true, suppressed: number } {
    const now = this.now()
    const state = this.keys.get(key)
    if (state === undefined) {
      if (this.keys.size >= this.maxKeys) {
        const oldest = this.keys.keys().next().value
        if (oldest !== undefined) this.keys.delete(oldest)
      }
      this.keys.set(key, { lastAt: now, suppressed: 0 })
      return { log: true, suppressed: 0 }
    }
    if (now - state.lastAt < this.intervalMs) {
      state.suppressed++
      return { log: false }
    }
    const suppressed = state.suppressed
    // re-inserted, so the map's order is least recently logged first
    this.keys.delete(key)
    this.keys.set(key, { lastAt: now, suppressed: 0 })
    return { log: true, suppressed }
  }
}
