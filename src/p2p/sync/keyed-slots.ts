/**
 * At most `limit` holders per key at once; later callers wait in arrival order. Sync uses it per
 * peer so its concurrent exchanges (a session's pairs, gap fills) never open more streams than
 * the peer accepts: a stream over the peer's limit is reset and fails the whole exchange.
 */
export class KeyedSlots {
  private readonly keys = new Map<string, { held: number, waiting: Array<() => void> }>()

  constructor (private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('keyed slots need a limit of at least 1')
  }

  /** Holders of `key` now. */
  held (key: string): number {
    return this.keys.get(key)?.held ?? 0
  }

  /**
   * Resolves with a release function once a slot of `key` is free; rejects with the signal's
   * reason when it aborts first. Releasing twice is harmless.
   */
  async acquire (key: string, signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted()
    let slot = this.keys.get(key)
    if (slot === undefined) {
      slot = { held: 0, waiting: [] }
      this.keys.set(key, slot)
    }
    const entry = slot
    if (entry.held < this.limit) {
      entry.held++
    } else {
      // a releasing holder hands its slot straight to the first waiter (`held` stays)
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        }
        const onAbort = (): void => {
          entry.waiting.splice(entry.waiting.indexOf(wake), 1)
          reject(signal.reason)
        }
        entry.waiting.push(wake)
        signal.addEventListener('abort', onAbort, { once: true })
      })
    }
    let released = false
    return () => {
      if (released) return
      released = true
      const next = entry.waiting.shift()
      if (next !== undefined) next()
      else if (--entry.held === 0) this.keys.delete(key)
    }
  }
}
