/**
 * How long a wait lasts by default: generous, because the suites share a few cores with real
 * libp2p nodes and LevelDB; a condition that holds returns at the next poll anyway.
 */
export const WAIT_FOR_TIMEOUT_MS = 15_000
/** Between polls: short enough not to slow a test, long enough not to starve what it waits on. */
export const WAIT_FOR_INTERVAL_MS = 20

export interface WaitForOptions {
  /** @default WAIT_FOR_TIMEOUT_MS */
  timeout?: number
  /** @default WAIT_FOR_INTERVAL_MS */
  interval?: number
  /** says what was awaited when time runs out */
  message?: string
}

/**
 * Polls until `predicate` holds; at the deadline throws `timed out after N ms waiting for
 * <message>`. The one wait of the test suites: no fixed sleeps in tests.
 */
export async function waitFor (predicate: () => boolean | Promise<boolean>, options: WaitForOptions = {}): Promise<void> {
  const { timeout = WAIT_FOR_TIMEOUT_MS, interval = WAIT_FOR_INTERVAL_MS, message = 'condition' } = options
  const deadline = Date.now() + timeout
  for (;;) {
    if (await predicate()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message}`)
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
