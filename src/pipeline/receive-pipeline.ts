import { checkCloudEventConsistency, decodeCDEventData, validateCDEvent } from '../events/index.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import { openSignedRecordWith, sharedVerifier } from '../signing/index.js'
import type { SignatureVerifier } from '../signing/index.js'
import type { AppendOutcome, StoredEvent } from '../store/types.js'
import type { TrustCheck, TrustVerdict } from '../trust/types.js'
import type { MatchableEvent } from '../subscriptions/types.js'
import type { ReceiveContext, ReceiveOutcome } from '../p2p/types.js'
import { TopicMismatchError, UntrustedForwardedError } from './errors.js'
import { CdgossipError } from '../errors.js'
import { refusalReason, type PipelineObservation } from './observation.js'

export interface ReceiveStore {
  append(event: SignedEvent, meta: { trusted: boolean }): Promise<AppendOutcome>
}

export interface ReceivePipelineComponents {
  store: ReceiveStore
  /** throws UntrustedSignerError in allowlist mode; own events are always trusted */
  trust(check: TrustCheck): TrustVerdict
  /** whether any local subscription keeps this event (its start point included) */
  wanted(event: MatchableEvent, eventTime: string): boolean
  /** told when sync fetched a record no subscription keeps (history before a `now` start) */
  skipped?(event: SignedEvent): void
  /** told of each newly stored record, in store order */
  stored(stored: StoredEvent): void
  /** told when a record arrives beyond the highest sequence held (from..to are missing) */
  gap(origin: string, eventClass: EventClass, from: number, to: number): void
  /** told what became of every record (metrics); must not throw */
  observe?(observation: PipelineObservation): void
  /** where Ed25519 signatures are checked; @default the process's worker pool (sharedVerifier) */
  verifier?: SignatureVerifier
}

type ReceiveOptions = Partial<Pick<ReceiveContext, 'expectedClass' | 'from' | 'via'>> & { keepAll?: boolean }

/**
 * verify → validate → trust → store → deliver, for records from the network (gossip, sync,
 * import). Every check runs before anything is stored or forwarded (the gossip validator
 * awaits this), in the order: decoding and signature, CDEvent schema, trust, consistency of
 * topic/class and of CloudEvent attributes with the CDEvent context. The record is kept
 * exactly as signed (its wire bytes), so every node serves byte-identical records.
 */
export class ReceivePipeline {
  private readonly components: ReceivePipelineComponents
  private readonly verifier: SignatureVerifier

  constructor (components: ReceivePipelineComponents) {
    this.components = components
    this.verifier = components.verifier ?? sharedVerifier()
  }

  /**
   * `expectedClass` is the gossip topic's or the sync request's class; imports have none and
   * keep every valid record (`keepAll`), whatever the subscriptions say.
   */
  async receive (bytes: Uint8Array, context: ReceiveOptions = {}): Promise<ReceiveOutcome> {
    const { observe } = this.components
    if (observe === undefined) return await this.process(bytes, context, {})
    const via = context.via ?? 'import'
    // a refusal is counted under the topic's (or requested) class, bounded by what this node
    // joined, before the record's own claim
    const at: { eventClass?: EventClass } = { eventClass: context.expectedClass }
    try {
      const outcome = await this.process(bytes, context, at)
      observe({ via, outcome: outcome.status, eventClass: outcome.event.eventClass })
      return outcome
    } catch (err) {
      observe({ via, outcome: 'refused', eventClass: at.eventClass, reason: refusalReason(err) })
      throw err
    }
  }

  private async process (bytes: Uint8Array, context: ReceiveOptions, at: { eventClass?: EventClass }): Promise<ReceiveOutcome> {
    const signed = await openSignedRecordWith(bytes, this.verifier)
    const { cdevent, parsedType } = validateCDEvent(decodeCDEventData(signed.data))
    const eventClass = parsedType.eventClass
    at.eventClass ??= eventClass
    const verdict = this.checkTrust(signed.origin, signed.attributes.source, eventClass, context.from)
    if (context.expectedClass !== undefined && eventClass !== context.expectedClass) throw new TopicMismatchError(context.expectedClass, eventClass)
    checkCloudEventConsistency(signed.attributes as unknown as Record<string, unknown>, cdevent)
    const event: SignedEvent = { ...signed, cdevent, eventClass }

    const { store } = this.components
    // no separate "already held?" read: gossip dedupes by message id, sync asks only for what
    // is missing, and append itself reports a duplicate
    const outcome = typeof cdevent.subject.content.outcome === 'string' ? cdevent.subject.content.outcome : undefined
    const matchable: MatchableEvent = {
      eventClass,
      origin: event.origin,
      source: event.attributes.source,
      subjectId: cdevent.subject.id,
      trusted: verdict.trusted,
      ...(outcome === undefined ? {} : { outcome })
    }
    if (context.keepAll !== true && !this.components.wanted(matchable, cdevent.context.timestamp)) {
      if (context.via === 'sync') this.components.skipped?.(event)
      return { status: 'relayed', event }
    }

    const appended = await store.append(event, { trusted: verdict.trusted })
    if (appended.status === 'duplicate') return { status: 'duplicate', event }
    this.components.stored(appended.stored)
    const { highestBefore } = appended
    if (event.sequence > highestBefore + 1) this.components.gap(event.origin, eventClass, highestBefore + 1, event.sequence - 1)
    return { status: 'stored', event }
  }

  private checkTrust (origin: string, source: string, eventClass: EventClass, from: string | undefined): TrustVerdict {
    try {
      return this.components.trust({ origin, source, eventClass })
    } catch (err) {
      if (from === undefined || from === origin || !(err instanceof CdgossipError) || err.code !== 'CDG_UNTRUSTED_SIGNER') throw err
      throw new UntrustedForwardedError(err.message, origin, from, err)
    }
  }
}
