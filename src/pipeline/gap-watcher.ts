import type { EventClass } from '../events/types.js'

/**
 * Gossip validates messages concurrently, so sequence n+2 is often stored a moment before n+1.
 * Asking peers at once for every such "gap" floods them with sync requests for records already
 * on their way (measured: a 3-node federation at 500 events/s spent most of its I/O serving
 * them). A gap is therefore only reported once it has outlived a grace period.
 */
export const GAP_GRACE_MS = 2_000
/** Most missing sequences looked up per pair when the grace period ends. */
export const GAP_LOOKUP_LIMIT = 10_000

export interface GapWatcherComponents {
  /** the sequences still missing below the highest held, ascending (bounded) */
  missingSequences(origin: string, eventClass: EventClass, limit: number): Promise<number[]>
  /** ask peers for from..to */
  requestGap(origin: string, eventClass: EventClass, from: number, to: number): void
}

export interface GapWatcherInit {
  /** @default GAP_GRACE_MS */
  graceMs?: number
}

/** Coalesces gap reports per (origin, class) and repairs what is still missing after the grace period. */
export class GapWatcher {
  private readonly components: GapWatcherComponents
  private readonly graceMs: number
  private readonly timers = new Map<string, { origin: string, eventClass: EventClass, timer: ReturnType<typeof setTimeout> }>()

  constructor (components: GapWatcherComponents, init: GapWatcherInit = {}) {
    this.components = components
    this.graceMs = init.graceMs ?? GAP_GRACE_MS
  }

  /** A record arrived beyond the highest held; check the pair once the grace period is over. */
  report (origin: string, eventClass: EventClass): void {
    const key = `${origin} ${eventClass}`
    if (this.timers.has(key)) return
    const timer = setTimeout(() => {
      this.timers.delete(key)
      void this.check(origin, eventClass)
    }, this.graceMs)
    timer.unref()
    this.timers.set(key, { origin, eventClass, timer })
  }

  /** Drop pending checks (the node is stopping; the next start's sync rounds find the gaps). */
  stop (): void {
    for (const { timer } of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  private async check (origin: string, eventClass: EventClass): Promise<void> {
    let missing: number[]
    try {
      missing = await this.components.missingSequences(origin, eventClass, GAP_LOOKUP_LIMIT)
    } catch {
      return // store closing: the periodic sync round repairs it later
    }
    const first = missing[0]
    const last = missing[missing.length - 1]
    if (first !== undefined && last !== undefined) this.components.requestGap(origin, eventClass, first, last)
  }
}
