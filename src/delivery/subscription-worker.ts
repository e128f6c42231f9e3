import type { Logger } from 'pino'
import type { StoredEvent } from '../events/records.js'
import type { DeliverySink, Subscription } from '../subscriptions/types.js'
import { backoffDelay } from './backoff.js'
import { CredentialError } from './credentials.js'
import { resolveDeliveryTarget } from './delivery-target.js'
import type { DeliveryTarget, PreparedRequest } from './delivery-target.js'
import type { DeliveryLedger } from './delivery-ledger.js'
import { InvalidSinkError } from './errors.js'
import type { DeadLetter, DeliveryAttempt, DeliveryHead, DeliverySource, DeliveryState, SharedProgress, SubscriptionMatcher } from './types.js'
import { sendWebhook } from './webhook-client.js'
import type { SendResult } from './webhook-client.js'
import { sleep, Wakeup } from './wakeup.js'

/** A subscription whose sink the delivery service sends to: a webhook or a trigger sink. */
export type DeliverySubscription = Subscription & { sink: DeliverySink }

export interface SubscriptionWorkerComponents {
  source: DeliverySource
  matches: SubscriptionMatcher
  /** the subscription's persisted state; loaded (and retried) by the worker's loop */
  loadLedger: () => Promise<DeliveryLedger>
  /** progress shared with the other nodes of the community, when the node has siblings */
  shared?: SharedProgress
  log?: Logger
  onAttempt?: (attempt: DeliveryAttempt) => void
  random: () => number
  now: () => number
  /** where trigger sinks' `tokenEnv` names are looked up; default process.env */
  env?: NodeJS.ProcessEnv
}

export interface SubscriptionWorkerInit {
  backoffBaseMs: number
  backoffMaxMs: number
  retryAfterMaxMs: number
  pageSize: number
  maxDeadLetters: number
  maxErrorBodyBytes: number
}

type RoundOutcome = 'delivered' | 'dead' | 'aborted'

/**
 * Delivers one subscription's matching records to its sink (a webhook, or a tool's trigger API:
 * the same loop, only the request differs), one at a time and in arrival order.
 * The record being retried blocks the ones after it (per subscription only); after its budget it
 * becomes a dead letter and the worker moves on. Queued re-drives go before the next new record.
 */
export class SubscriptionWorker {
  readonly subscription: DeliverySubscription
  /** why the sink is unusable, when it is */
  readonly invalidReason: string | undefined
  private readonly components: SubscriptionWorkerComponents
  private readonly init: SubscriptionWorkerInit
  private readonly sink: DeliveryTarget | undefined
  /** why the sink's credential cannot be read right now; cleared as soon as it can */
  private credentialProblem: string | undefined
  private readonly wakeup = new Wakeup()
  private running: { controller: AbortController, loop: Promise<void>, detach: () => void } | undefined
  private currentState: DeliveryState = 'stopped'
  private internalError: string | undefined
  private loadedLedger: DeliveryLedger | undefined

  constructor (subscription: DeliverySubscription, components: SubscriptionWorkerComponents, init: SubscriptionWorkerInit) {
    this.subscription = subscription
    this.components = components
    this.init = init
    try {
      this.sink = resolveDeliveryTarget(subscription.sink, components.env === undefined ? {} : { env: components.env })
    } catch (err) {
      if (!(err instanceof InvalidSinkError)) throw err
      this.invalidReason = err.message
    }
  }

  get state (): DeliveryState {
    return this.problem !== undefined ? 'invalid' : this.currentState
  }

  /** Why nothing can be sent: an unusable sink, or a credential that cannot be read (which may heal). */
  get problem (): string | undefined {
    return this.invalidReason ?? this.credentialProblem
  }

  /** A failure outside HTTP (store read, state write) that the loop is backing off from. */
  get lastInternalError (): string | undefined {
    return this.internalError
  }

  start (parent: AbortSignal): void {
    if (this.running !== undefined || this.sink === undefined || parent.aborted) return
    const controller = new AbortController()
    const onAbort = (): void => { controller.abort() }
    parent.addEventListener('abort', onAbort, { once: true })
    const loop = this.run(this.sink, controller.signal)
    this.running = { controller, loop, detach: () => { parent.removeEventListener('abort', onAbort) } }
  }

  async stop (): Promise<void> {
    const running = this.running
    if (running === undefined) return
    running.controller.abort()
    await running.loop
    running.detach()
    this.running = undefined
    this.currentState = 'stopped'
  }

  /** Something changed (redrive, discard): look again. */
  wake (): void {
    this.wakeup.notify()
  }

  /** A new record was stored: wake up only if it concerns this subscription. */
  offer (stored: StoredEvent): void {
    if (this.matches(stored)) this.wakeup.notify()
  }

  private matches (stored: StoredEvent): boolean {
    return this.components.matches(this.subscription, stored)
  }

  private async run (sink: DeliveryTarget, signal: AbortSignal): Promise<void> {
    let failures = 0
    while (!signal.aborted) {
      try {
        this.loadedLedger ??= await this.components.loadLedger()
        await this.step(sink, signal)
        failures = 0
        this.internalError = undefined
      } catch (err) {
        if (signal.aborted) break
        failures++
        this.internalError = err instanceof Error ? err.message : String(err)
        this.components.log?.warn({ err, subscription: this.subscription.id }, 'delivery worker failed; backing off')
        await sleep(this.internalBackoff(failures), signal)
      }
    }
    this.currentState = 'stopped'
  }

  private get ledger (): DeliveryLedger {
    if (this.loadedLedger === undefined) throw new Error('delivery ledger used before it was loaded')
    return this.loadedLedger
  }

  /** The wait after a failure of our own (store, credential): never zero, so the loop cannot spin. */
  private internalBackoff (failures: number): number {
    return Math.max(this.init.backoffBaseMs, backoffDelay(failures, this.backoff(), this.components.random))
  }

  /** The record's request, or undefined (and the problem recorded) when the credential cannot be read. */
  private async prepare (sink: DeliveryTarget, stored: StoredEvent): Promise<PreparedRequest | undefined> {
    try {
      const request = await sink.prepare(stored)
      this.setCredentialProblem(undefined)
      return request
    } catch (err) {
      if (!(err instanceof CredentialError)) throw err
      this.setCredentialProblem(err.message)
      return undefined
    }
  }

  private async checkCredential (sink: DeliveryTarget): Promise<void> {
    try {
      await sink.checkCredential()
      this.setCredentialProblem(undefined)
    } catch (err) {
      if (!(err instanceof CredentialError)) throw err
      this.setCredentialProblem(err.message)
    }
  }

  /** Logged once per change: the message names the file or variable, never its content. */
  private setCredentialProblem (problem: string | undefined): void {
    if (problem === this.credentialProblem) return
    this.credentialProblem = problem
    if (problem !== undefined) this.components.log?.warn({ subscription: this.subscription.id, reason: problem }, 'sink credential cannot be used; delivery waits')
    else this.components.log?.info({ subscription: this.subscription.id }, 'sink credential readable again; delivery resumes')
  }

  private backoff (): { baseMs: number, maxMs: number } {
    return { baseMs: this.init.backoffBaseMs, maxMs: this.init.backoffMaxMs }
  }

  /** One unit of work: a re-drive, a page of new records, or a wait. */
  private async step (sink: DeliveryTarget, signal: AbortSignal): Promise<void> {
    const ledger = this.ledger
    // shows a missing credential while idle too, and clears the state once it is fixed
    await this.checkCredential(sink)
    // Cleared before looking for work: a notify from here on makes the wait below return at once.
    this.wakeup.clear()

    const redrive = ledger.progress.redrive[0]
    if (redrive !== undefined) {
      this.currentState = 'delivering'
      await this.redriveOne(sink, redrive, signal)
      return
    }
    if (this.deadLettersFull()) {
      this.currentState = 'paused'
      await this.wakeup.wait(signal)
      return
    }

    this.currentState = 'delivering'
    const page = await this.components.source.readAfter(ledger.progress.cursor, this.init.pageSize)
    if (page.length === 0) {
      this.currentState = 'idle'
      // with an unreadable credential, look again now and then so the state heals once it is fixed
      await this.wakeup.wait(signal, this.credentialProblem === undefined ? undefined : this.init.backoffMaxMs)
      return
    }

    let skipped = false
    const shared = this.components.shared
    const id = this.subscription.id
    for (const stored of page) {
      if (signal.aborted) return
      if (ledger.progress.redrive.length > 0 || this.deadLettersFull()) break
      if (shared?.has(id, stored.event) === true || !this.matches(stored)) {
        ledger.progress.cursor = stored.cursor
        shared?.handled(id, stored.event)
        skipped = true
        continue
      }
      const outcome = await this.deliverRound(sink, stored, false, signal)
      if (outcome === 'aborted') return
      shared?.handled(id, stored.event)
      skipped = false
    }
    // Skipped records are only worth one write per page; losing it costs a re-scan, not an event.
    if (skipped) await ledger.saveProgress()
  }

  private deadLettersFull (): boolean {
    return this.ledger.deadLetters.length >= this.init.maxDeadLetters
  }

  private async redriveOne (sink: DeliveryTarget, digest: string, signal: AbortSignal): Promise<void> {
    const ledger = this.ledger
    const letter = ledger.deadLetters.find(d => d.digest === digest)
    if (letter === undefined) {
      // discarded after it was queued
      ledger.progress.redrive = ledger.progress.redrive.filter(d => d !== digest)
      await ledger.saveProgress()
      return
    }
    const stored = await this.components.source.getEvent(digest)
    if (stored === undefined) {
      letter.lastError = 'the record is no longer in the store'
      ledger.progress.redrive = ledger.progress.redrive.filter(d => d !== digest)
      await ledger.saveDeadLetters()
      await ledger.saveProgress()
      return
    }
    await this.deliverRound(sink, stored, true, signal)
  }

  /** Try one record until it is acknowledged, its budget runs out, or the worker stops. */
  private async deliverRound (sink: DeliveryTarget, stored: StoredEvent, redrive: boolean, signal: AbortSignal): Promise<RoundOutcome> {
    const ledger = this.ledger
    const now = this.components.now
    const progress = ledger.progress
    const digest = stored.event.digest
    // A restart in the middle of retrying keeps the attempts and age already spent.
    const head: DeliveryHead = progress.head?.digest === digest
      ? progress.head
      : { digest, attempts: 0, firstAttemptAt: new Date(now()).toISOString() }
    progress.head = head
    let credentialWaits = 0

    while (true) {
      if (signal.aborted) return 'aborted'
      this.currentState = 'delivering'
      // built per attempt: a trigger sink reads its credential each time, so a rotated file is used at once
      const request = await this.prepare(sink, stored)
      if (request === undefined) {
        // our own configuration is at fault, not the record: wait without spending its attempts
        credentialWaits++
        this.currentState = 'retrying'
        if (!await sleep(this.internalBackoff(credentialWaits), signal)) return 'aborted'
        continue
      }
      const result = await sendWebhook(request.url, request, {
        timeoutMs: sink.timeoutMs,
        signal,
        maxErrorBodyBytes: this.init.maxErrorBodyBytes,
        now,
        redact: request.secrets,
        ...(request.rateLimitWait === undefined ? {} : { rateLimitWait: request.rateLimitWait })
      })
      if (result.kind === 'aborted') return 'aborted'
      head.attempts++
      progress.attempts++

      if (result.kind === 'delivered') {
        progress.delivered++
        progress.lastStatus = result.status
        progress.lastDeliveredAt = new Date(now()).toISOString()
        delete progress.head
        if (redrive) {
          progress.redrive = progress.redrive.filter(d => d !== digest)
          ledger.deadLetters = ledger.deadLetters.filter(d => d.digest !== digest)
          await ledger.saveProgress()
          await ledger.saveDeadLetters()
        } else {
          progress.cursor = stored.cursor
          await ledger.saveProgress()
        }
        this.report({ stored, attempt: head.attempts, result: 'delivered', redrive, status: result.status })
        return 'delivered'
      }

      progress.failures++
      progress.lastError = result.error
      if (result.status === undefined) delete progress.lastStatus
      else progress.lastStatus = result.status

      const retryIn = this.retryDelay(sink, head, result)
      if (retryIn === undefined) {
        await this.deadLetter(stored, head, result, redrive)
        this.report({ stored, attempt: head.attempts, result: 'dead-letter', redrive, status: result.status, error: result.error })
        return 'dead'
      }
      this.report({ stored, attempt: head.attempts, result: 'retry', redrive, status: result.status, error: result.error, retryInMs: retryIn })
      await ledger.saveProgress()
      this.currentState = 'retrying'
      if (!await sleep(retryIn, signal)) return 'aborted'
    }
  }

  /** The wait before the next attempt, or undefined when the record must become a dead letter. */
  private retryDelay (sink: DeliveryTarget, head: DeliveryHead, result: Exclude<SendResult, { kind: 'delivered' | 'aborted' }>): number | undefined {
    if (result.kind !== 'retryable' || head.attempts >= sink.maxAttempts) return undefined
    const delay = result.retryAfterMs !== undefined
      ? Math.min(result.retryAfterMs, this.init.retryAfterMaxMs)
      : backoffDelay(head.attempts, this.backoff(), this.components.random)
    const firstAttempt = Date.parse(head.firstAttemptAt)
    const startedAt = Number.isNaN(firstAttempt) ? this.components.now() : firstAttempt
    // Give up now rather than wait for an attempt that would already be too old.
    if (this.components.now() + delay - startedAt > sink.maxAgeMs) return undefined
    return delay
  }

  private async deadLetter (stored: StoredEvent, head: DeliveryHead, result: Exclude<SendResult, { kind: 'delivered' | 'aborted' }>, redrive: boolean): Promise<void> {
    const ledger = this.ledger
    const digest = stored.event.digest
    const index = ledger.deadLetters.findIndex(d => d.digest === digest)
    const previous = index >= 0 ? ledger.deadLetters[index] : undefined
    const letter: DeadLetter = {
      digest,
      cursor: stored.cursor,
      attempts: (previous?.attempts ?? 0) + head.attempts,
      lastError: result.error,
      failedAt: new Date(this.components.now()).toISOString()
    }
    if (result.status !== undefined) letter.lastStatus = result.status
    if (index >= 0) ledger.deadLetters[index] = letter
    // A re-driven letter discarded while in flight stays discarded.
    else if (!redrive) ledger.deadLetters.push(letter)

    delete ledger.progress.head
    if (redrive) ledger.progress.redrive = ledger.progress.redrive.filter(d => d !== digest)
    else ledger.progress.cursor = stored.cursor
    // Dead letter first: a crash between the writes re-sends the record instead of losing it.
    await ledger.saveDeadLetters()
    await ledger.saveProgress()
    this.components.log?.warn({ subscription: this.subscription.id, digest, attempts: letter.attempts, status: letter.lastStatus }, 'webhook delivery dead-lettered')
  }

  private report (fields: Omit<DeliveryAttempt, 'subscriptionId' | 'digest' | 'cursor'> & { stored: StoredEvent }): void {
    const { stored, ...rest } = fields
    const attempt: DeliveryAttempt = { subscriptionId: this.subscription.id, digest: stored.event.digest, cursor: stored.cursor, ...rest }
    if (attempt.status === undefined) delete attempt.status
    if (attempt.error === undefined) delete attempt.error
    try {
      this.components.onAttempt?.(attempt)
    } catch (err) {
      this.components.log?.warn({ err }, 'delivery observer threw')
    }
  }
}
