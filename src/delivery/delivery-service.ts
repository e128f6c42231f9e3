import type { Logger } from 'pino'
import type { StoredEvent } from '../events/records.js'
import type { StateSection } from '../contracts/state-section.js'
import type { Subscription } from '../subscriptions/types.js'
import { DeliveryLedger } from './delivery-ledger.js'
import { UnknownSubscriptionError } from './errors.js'
import { SubscriptionWorker } from './subscription-worker.js'
import type { DeliverySubscription, SubscriptionWorkerInit } from './subscription-worker.js'
import type { DeadLetter, DeliveryAttempt, DeliveryProgress, DeliverySource, DeliveryStatus, SharedProgress, SubscriptionMatcher } from './types.js'
import { DEFAULT_MAX_ERROR_BODY_BYTES } from './webhook-client.js'

/** @default 500 */
export const DEFAULT_BACKOFF_BASE_MS = 500
/** @default 60000 */
export const DEFAULT_BACKOFF_MAX_MS = 60_000
/** @default 60000 — a receiver's Retry-After is honoured up to this, so it cannot park a subscription for days */
export const DEFAULT_RETRY_AFTER_MAX_MS = 60_000
/** @default 100 — records read from the store per page */
export const DEFAULT_PAGE_SIZE = 100
/**
 * @default 1000 — per subscription. When full, the subscription pauses (nothing is lost: the records
 * stay in the store) until dead letters are re-driven or discarded, instead of growing without bound.
 */
export const DEFAULT_MAX_DEAD_LETTERS = 1000
/** @default 10000 — status() counts lag by scanning the store; past this it reports a lower bound */
export const DEFAULT_LAG_SCAN_LIMIT = 10_000

export interface DeliveryServiceComponents {
  source: DeliverySource
  matches: SubscriptionMatcher
  /** progress per subscription id */
  progress: StateSection<DeliveryProgress>
  /** dead letters per subscription id, in the order they failed */
  deadLetters: StateSection<DeadLetter[]>
  log?: Logger
  /** every HTTP attempt's result, for metrics */
  onAttempt?: (attempt: DeliveryAttempt) => void
  /** progress shared with the other nodes of the community (only one of them delivers at a time) */
  shared?: SharedProgress
  /** where trigger sinks' `tokenEnv` names are looked up; default process.env */
  env?: NodeJS.ProcessEnv
  /** jitter source; tests may pin it */
  random?: () => number
  now?: () => number
}

export interface DeliveryServiceInit {
  /** @default DEFAULT_BACKOFF_BASE_MS */
  backoffBaseMs?: number
  /** @default DEFAULT_BACKOFF_MAX_MS */
  backoffMaxMs?: number
  /** @default DEFAULT_RETRY_AFTER_MAX_MS */
  retryAfterMaxMs?: number
  /** @default DEFAULT_PAGE_SIZE */
  pageSize?: number
  /** @default DEFAULT_MAX_DEAD_LETTERS */
  maxDeadLetters?: number
  /** @default DEFAULT_MAX_ERROR_BODY_BYTES */
  maxErrorBodyBytes?: number
  /** @default DEFAULT_LAG_SCAN_LIMIT */
  lagScanLimit?: number
}

type ServiceStatus =
  | { state: 'stopped' }
  | { state: 'started', controller: AbortController, unsubscribe: () => void }
  | { state: 'stopping', done: Promise<void> }

interface RunningWorker {
  worker: SubscriptionWorker
  fingerprint: string
}

function isDeliverySubscription (sub: Subscription): sub is DeliverySubscription {
  return sub.sink.type !== 'store'
}

/** What makes a running worker stale: anything it matches or sends with. */
function fingerprint (sub: DeliverySubscription): string {
  return JSON.stringify([sub.classes, sub.filter, sub.includeUntrusted, sub.sink])
}

/**
 * Delivery for every webhook and trigger-sink subscription: one ordered worker each, progress and dead
 * letters persisted through the injected state sections.
 *
 * Re-drive order: re-driven dead letters are sent, in their original order, before any record
 * newer than the one in flight; a record already being retried finishes its round first. So a
 * receiver sees re-driven events after the events delivered while they sat in the dead letters.
 */
export class DeliveryService {
  private readonly components: DeliveryServiceComponents
  private readonly workerInit: SubscriptionWorkerInit
  private readonly lagScanLimit: number
  private status: ServiceStatus = { state: 'stopped' }
  /** webhook subscriptions as last synced */
  private desired = new Map<string, DeliverySubscription>()
  /** start cursors of `now` subscriptions, captured when first seen */
  private readonly nowCursors = new Map<string, string | undefined>()
  private readonly ledgers = new Map<string, Promise<DeliveryLedger>>()
  private readonly workers = new Map<string, RunningWorker>()
  private reconciling: Promise<void> = Promise.resolve()

  constructor (components: DeliveryServiceComponents, init: DeliveryServiceInit = {}) {
    this.components = components
    this.workerInit = {
      backoffBaseMs: init.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS,
      backoffMaxMs: init.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS,
      retryAfterMaxMs: init.retryAfterMaxMs ?? DEFAULT_RETRY_AFTER_MAX_MS,
      pageSize: init.pageSize ?? DEFAULT_PAGE_SIZE,
      maxDeadLetters: init.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS,
      maxErrorBodyBytes: init.maxErrorBodyBytes ?? DEFAULT_MAX_ERROR_BODY_BYTES
    }
    this.lagScanLimit = init.lagScanLimit ?? DEFAULT_LAG_SCAN_LIMIT
  }

  isStarted (): boolean {
    return this.status.state === 'started'
  }

  async start (): Promise<void> {
    if (this.status.state === 'stopping') await this.status.done
    if (this.status.state === 'started') return
    const controller = new AbortController()
    const unsubscribe = this.components.source.onStored(stored => { this.offer(stored) })
    this.status = { state: 'started', controller, unsubscribe }
    try {
      await this.reconcile()
    } catch (err) {
      await this.stop()
      throw err
    }
  }

  /** Halts every worker at once (in-flight requests and backoffs are aborted); progress stays persisted. */
  async stop (): Promise<void> {
    const status = this.status
    if (status.state === 'stopping') {
      await status.done
      return
    }
    if (status.state !== 'started') return
    const done = (async () => {
      status.unsubscribe()
      status.controller.abort()
      await this.reconciling
      const running = [...this.workers.values()]
      this.workers.clear()
      await Promise.all(running.map(async ({ worker }) => { await worker.stop() }))
      const ledgers = [...this.ledgers.values()]
      this.ledgers.clear()
      await Promise.allSettled(ledgers.map(async ledger => { await (await ledger).flush() }))
    })()
    this.status = { state: 'stopping', done }
    try {
      await done
    } finally {
      this.status = { state: 'stopped' }
    }
  }

  /**
   * Declare the full current set of subscriptions (`store` sinks are ignored). Workers start
   * for new ones, stop for removed ones and restart for changed ones; persisted state is kept (use
   * forgetSubscription() when a subscription is deleted). Before start() this only records the set.
   * Never rejects, so it may be called without awaiting; awaiting it means the workers are running.
   */
  async syncSubscriptions (subscriptions: Subscription[]): Promise<void> {
    const next = new Map<string, DeliverySubscription>()
    for (const sub of subscriptions) {
      if (!isDeliverySubscription(sub)) continue
      next.set(sub.id, sub)
      // "now" means now: taken synchronously, before any await can let records slip past.
      if (!this.desired.has(sub.id) && sub.start.kind === 'now' && !this.nowCursors.has(sub.id)) {
        this.nowCursors.set(sub.id, this.components.source.lastCursor())
      }
    }
    this.desired = next
    if (this.status.state === 'started') {
      try {
        await this.reconcile()
      } catch (err) {
        // callers fire and forget on every subscription change; a failure here must not become an
        // unhandled rejection. The next sync (or restart) reconciles again.
        this.components.log?.error({ err }, 'could not apply subscription changes to delivery')
      }
    }
  }

  /** Stop a deleted subscription's worker and delete its progress and dead letters. */
  async forgetSubscription (subscriptionId: string): Promise<void> {
    this.desired.delete(subscriptionId)
    this.nowCursors.delete(subscriptionId)
    const running = this.workers.get(subscriptionId)
    this.workers.delete(subscriptionId)
    await running?.worker.stop()
    const loaded = this.ledgers.get(subscriptionId)
    this.ledgers.delete(subscriptionId)
    const ledger = loaded === undefined ? undefined : await loaded.catch(() => undefined)
    if (ledger !== undefined) {
      await ledger.remove()
    } else {
      await this.components.progress.del(subscriptionId)
      await this.components.deadLetters.del(subscriptionId)
    }
  }

  /** The subscription's dead letters, oldest first. */
  async listDeadLetters (subscriptionId: string): Promise<DeadLetter[]> {
    const ledger = await this.ledgerFor(subscriptionId)
    return structuredClone(ledger.deadLetters)
  }

  /**
   * Queue dead letters (all, or those with the given digests) for re-delivery; they leave the dead
   * letters once acknowledged, or stay (with more attempts counted) if they fail again.
   * Returns how many are queued.
   */
  async redrive (subscriptionId: string, digests?: string[]): Promise<number> {
    const ledger = await this.ledgerFor(subscriptionId)
    const wanted = digests === undefined ? undefined : new Set(digests)
    const queued = new Set(ledger.progress.redrive)
    let count = 0
    for (const letter of ledger.deadLetters) {
      if (wanted !== undefined && !wanted.has(letter.digest)) continue
      count++
      if (!queued.has(letter.digest)) {
        queued.add(letter.digest)
        ledger.progress.redrive.push(letter.digest)
      }
    }
    if (count > 0) {
      await ledger.saveProgress()
      this.workers.get(subscriptionId)?.worker.wake()
    }
    return count
  }

  /** Drop dead letters (all, or those with the given digests) for good. Returns how many. */
  async discardDeadLetters (subscriptionId: string, digests?: string[]): Promise<number> {
    const ledger = await this.ledgerFor(subscriptionId)
    const wanted = digests === undefined ? undefined : new Set(digests)
    const before = ledger.deadLetters.length
    ledger.deadLetters = ledger.deadLetters.filter(d => wanted !== undefined && !wanted.has(d.digest))
    const removed = before - ledger.deadLetters.length
    if (removed > 0) {
      const kept = new Set(ledger.deadLetters.map(d => d.digest))
      ledger.progress.redrive = ledger.progress.redrive.filter(d => kept.has(d))
      await ledger.saveDeadLetters()
      await ledger.saveProgress()
      // a paused worker may go on now
      this.workers.get(subscriptionId)?.worker.wake()
    }
    return removed
  }

  /** Delivery status of one webhook subscription; undefined when it is not one. */
  async subscriptionStatus (subscriptionId: string): Promise<DeliveryStatus | undefined> {
    const sub = this.desired.get(subscriptionId)
    if (sub === undefined) return undefined
    const ledger = await this.ledger(sub)
    const running = this.workers.get(subscriptionId)
    const { lag, truncated } = await this.countLag(sub, ledger.progress.cursor)
    const progress = ledger.progress
    const status: DeliveryStatus = {
      subscriptionId,
      state: running?.worker.state ?? 'stopped',
      delivered: progress.delivered,
      attempts: progress.attempts,
      failures: progress.failures,
      deadLetters: ledger.deadLetters.length,
      redrivePending: progress.redrive.length,
      lag,
      lagTruncated: truncated
    }
    if (progress.cursor !== undefined) status.cursor = progress.cursor
    if (progress.lastStatus !== undefined) status.lastStatus = progress.lastStatus
    const lastError = running?.worker.problem ?? running?.worker.lastInternalError ?? progress.lastError
    if (lastError !== undefined) status.lastError = lastError
    if (progress.lastDeliveredAt !== undefined) status.lastDeliveredAt = progress.lastDeliveredAt
    return status
  }

  /** Status of every webhook subscription. */
  async statuses (): Promise<DeliveryStatus[]> {
    const out: DeliveryStatus[] = []
    for (const id of this.desired.keys()) {
      const status = await this.subscriptionStatus(id)
      if (status !== undefined) out.push(status)
    }
    return out
  }

  private offer (stored: StoredEvent): void {
    for (const { worker } of this.workers.values()) {
      try {
        worker.offer(stored)
      } catch (err) {
        // a matcher bug must not stop other subscriptions; the worker will look anyway
        this.components.log?.warn({ err, subscription: worker.subscription.id }, 'subscription matcher threw')
        worker.wake()
      }
    }
  }

  private async countLag (sub: DeliverySubscription, from: string | undefined): Promise<{ lag: number, truncated: boolean }> {
    let cursor = from
    let scanned = 0
    let lag = 0
    while (scanned < this.lagScanLimit) {
      const limit = Math.min(this.workerInit.pageSize, this.lagScanLimit - scanned)
      const page = await this.components.source.readAfter(cursor, limit)
      for (const stored of page) {
        if (this.components.matches(sub, stored)) lag++
      }
      scanned += page.length
      const last = page.at(-1)
      if (last === undefined || page.length < limit) return { lag, truncated: false }
      cursor = last.cursor
    }
    const more = await this.components.source.readAfter(cursor, 1)
    return { lag, truncated: more.length > 0 }
  }

  private async ledgerFor (subscriptionId: string): Promise<DeliveryLedger> {
    const sub = this.desired.get(subscriptionId)
    if (sub === undefined) throw new UnknownSubscriptionError(subscriptionId)
    return await this.ledger(sub)
  }

  private async ledger (sub: DeliverySubscription): Promise<DeliveryLedger> {
    let loading = this.ledgers.get(sub.id)
    if (loading === undefined) {
      loading = DeliveryLedger.load({
        progressState: this.components.progress,
        deadLetterState: this.components.deadLetters
      }, sub.id, async () => await this.initialCursor(sub))
      this.ledgers.set(sub.id, loading)
      const attempt = loading
      // a failed load (store closed) must be retried next time, not cached
      attempt.catch(() => { if (this.ledgers.get(sub.id) === attempt) this.ledgers.delete(sub.id) })
    }
    return await loading
  }

  private async initialCursor (sub: DeliverySubscription): Promise<string | undefined> {
    switch (sub.start.kind) {
      case 'now':
        return this.nowCursors.has(sub.id) ? this.nowCursors.get(sub.id) : this.components.source.lastCursor()
      case 'beginning':
        return undefined
      case 'cursor':
        return sub.start.cursor
      case 'time':
        return await this.components.source.cursorAtTime(sub.start.time)
    }
  }

  /** Bring the running workers in line with `desired`; calls run one after another. */
  private async reconcile (): Promise<void> {
    const run = this.reconciling.then(async () => { await this.reconcileNow() })
    this.reconciling = run.catch(() => {})
    await run
  }

  private async reconcileNow (): Promise<void> {
    for (const [id, running] of [...this.workers]) {
      const sub = this.desired.get(id)
      if (sub !== undefined && fingerprint(sub) === running.fingerprint) continue
      this.workers.delete(id)
      await running.worker.stop()
      if (sub === undefined) {
        const ledger = this.ledgers.get(id)
        this.ledgers.delete(id)
        await ledger?.then(async l => { await l.flush() }, () => {})
      }
    }
    const status = this.status
    if (status.state !== 'started') return
    for (const sub of this.desired.values()) {
      if (this.workers.has(sub.id)) continue
      const worker = new SubscriptionWorker(sub, {
        source: this.components.source,
        matches: this.components.matches,
        loadLedger: async () => await this.ledger(sub),
        ...(this.components.log === undefined ? {} : { log: this.components.log }),
        ...(this.components.onAttempt === undefined ? {} : { onAttempt: this.components.onAttempt }),
        ...(this.components.shared === undefined ? {} : { shared: this.components.shared }),
        ...(this.components.env === undefined ? {} : { env: this.components.env }),
        random: this.components.random ?? Math.random,
        now: this.components.now ?? Date.now
      }, this.workerInit)
      this.workers.set(sub.id, { worker, fingerprint: fingerprint(sub) })
      worker.start(status.controller.signal)
      if (worker.invalidReason !== undefined) {
        this.components.log?.warn({ subscription: sub.id, reason: worker.invalidReason }, 'webhook sink is invalid; not delivering')
      }
    }
  }
}
