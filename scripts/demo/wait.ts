import { setTimeout as delay } from 'node:timers/promises'
import { DemoAbortedError, DemoTimeoutError } from './errors.js'

/** How often a condition is probed: quick enough to look instant, cheap over local HTTP. */
export const POLL_INTERVAL_MS = 50

export interface WaitOptions {
  /** what is awaited, for the timeout message */
  what: string
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Probe until nothing is missing, or throw DemoTimeoutError naming what still was at the
 * deadline. `probe` returns the missing items as readable lines (empty: done).
 */
export async function waitUntil (probe: () => Promise<string[]> | string[], options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    throwIfAborted(options.signal)
    const missing = await probe()
    if (missing.length === 0) return
    if (Date.now() >= deadline) throw new DemoTimeoutError({ what: options.what, timeoutMs: options.timeoutMs, missing })
    try {
      await delay(Math.min(POLL_INTERVAL_MS, Math.max(1, deadline - Date.now())), undefined, { signal: options.signal })
    } catch (err) {
      throw new DemoAbortedError(err)
    }
  }
}

export function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new DemoAbortedError(signal.reason)
}
