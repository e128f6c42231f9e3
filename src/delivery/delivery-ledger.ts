import type { StateSection } from '../contracts/state-section.js'
import type { DeadLetter, DeliveryProgress } from './types.js'

export interface DeliveryLedgerComponents {
  progressState: StateSection<DeliveryProgress>
  deadLetterState: StateSection<DeadLetter[]>
}

/**
 * One subscription's persisted delivery state, held in memory while in use. Writers mutate the
 * fields, then call save*(): writes are serialised and each writes the then-current snapshot, so
 * the worker and API calls (redrive, discard) never interleave half-written state.
 */
export class DeliveryLedger {
  readonly subscriptionId: string
  progress: DeliveryProgress
  deadLetters: DeadLetter[]
  private readonly components: DeliveryLedgerComponents
  private chain: Promise<void> = Promise.resolve()

  constructor (components: DeliveryLedgerComponents, subscriptionId: string, progress: DeliveryProgress, deadLetters: DeadLetter[]) {
    this.components = components
    this.subscriptionId = subscriptionId
    this.progress = progress
    this.deadLetters = deadLetters
  }

  /**
   * Read a subscription's state; when it has none yet, start it at `initialCursor()` and persist
   * that at once, so a restart keeps the start point a `now` subscription was given.
   */
  static async load (components: DeliveryLedgerComponents, subscriptionId: string, initialCursor: () => Promise<string | undefined>): Promise<DeliveryLedger> {
    const stored = await components.progressState.get(subscriptionId)
    const letters = await components.deadLetterState.get(subscriptionId)
    const deadLetters = normaliseDeadLetters(letters)
    if (stored !== undefined) {
      return new DeliveryLedger(components, subscriptionId, normaliseProgress(stored), deadLetters)
    }
    const cursor = await initialCursor()
    const progress: DeliveryProgress = { delivered: 0, attempts: 0, failures: 0, redrive: [] }
    if (cursor !== undefined) progress.cursor = cursor
    const ledger = new DeliveryLedger(components, subscriptionId, progress, deadLetters)
    await ledger.saveProgress()
    return ledger
  }

  async saveProgress (): Promise<void> {
    await this.enqueue(async () => {
      await this.components.progressState.put(this.subscriptionId, structuredClone(this.progress))
    })
  }

  async saveDeadLetters (): Promise<void> {
    await this.enqueue(async () => {
      await this.components.deadLetterState.put(this.subscriptionId, structuredClone(this.deadLetters))
    })
  }

  /** Wait for every queued write. */
  async flush (): Promise<void> {
    await this.enqueue(async () => {})
  }

  /** Delete the subscription's state (the subscription is gone). */
  async remove (): Promise<void> {
    await this.enqueue(async () => {
      await this.components.progressState.del(this.subscriptionId)
      await this.components.deadLetterState.del(this.subscriptionId)
    })
  }

  private async enqueue (task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task)
    // The chain itself must survive a failed write; the caller sees the failure through `run`.
    this.chain = run.catch(() => {})
    await run
  }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function count (value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0
}

/** State comes from our own database, but a hand-edited or older record must not crash a worker. */
function normaliseProgress (value: unknown): DeliveryProgress {
  const raw = isRecord(value) ? value : {}
  const progress: DeliveryProgress = {
    delivered: count(raw.delivered),
    attempts: count(raw.attempts),
    failures: count(raw.failures),
    redrive: Array.isArray(raw.redrive) ? raw.redrive.filter((d): d is string => typeof d === 'string') : []
  }
  if (typeof raw.cursor === 'string') progress.cursor = raw.cursor
  if (typeof raw.lastStatus === 'number') progress.lastStatus = raw.lastStatus
  if (typeof raw.lastError === 'string') progress.lastError = raw.lastError
  if (typeof raw.lastDeliveredAt === 'string') progress.lastDeliveredAt = raw.lastDeliveredAt
  const head = raw.head
  if (isRecord(head) && typeof head.digest === 'string' && typeof head.firstAttemptAt === 'string') {
    progress.head = { digest: head.digest, attempts: count(head.attempts), firstAttemptAt: head.firstAttemptAt }
  }
  return progress
}

function normaliseDeadLetters (value: unknown): DeadLetter[] {
  if (!Array.isArray(value)) return []
  const letters: DeadLetter[] = []
  for (const item of value) {
    if (!isRecord(item) || typeof item.digest !== 'string' || typeof item.cursor !== 'string') continue
    const letter: DeadLetter = {
      digest: item.digest,
      cursor: item.cursor,
      attempts: count(item.attempts),
      failedAt: typeof item.failedAt === 'string' ? item.failedAt : new Date(0).toISOString()
    }
    if (typeof item.lastStatus === 'number') letter.lastStatus = item.lastStatus
    if (typeof item.lastError === 'string') letter.lastError = item.lastError
    letters.push(letter)
  }
  return letters
}
