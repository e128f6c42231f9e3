/**
 * Resolve after `ms`, or early when `signal` aborts. Resolves true when the time elapsed, false on
 * abort, so loops can stop without try/catch around every wait.
 */
export async function sleep (ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false
  return await new Promise<boolean>(resolve => {
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, Math.max(0, ms))
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * A level-triggered wake-up: notify() before wait() is not lost, so a loop can clear(), look for
 * work, and wait() only if nothing was notified in between.
 */
export class Wakeup {
  private pending = false
  private waiters: Array<() => void> = []

  notify (): void {
    this.pending = true
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }

  clear (): void {
    this.pending = false
  }

  /** Resolves at the next notify (at once if one is pending), on abort, or after `timeoutMs`. */
  async wait (signal: AbortSignal, timeoutMs?: number): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false
      return
    }
    await new Promise<void>(resolve => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.waiters = this.waiters.filter(w => w !== done)
        resolve()
      }
      this.waiters.push(done)
      signal.addEventListener('abort', done, { once: true })
      if (timeoutMs !== undefined) timer = setTimeout(done, timeoutMs)
    })
    this.pending = false
  }
}
