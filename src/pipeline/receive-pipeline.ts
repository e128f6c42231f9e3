import { checkCloudEventConsistency, decodeCDEventData, validateCDEvent } from '../events/index.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import { openSignedRecordWith, sharedVerifier } from '../signing/index.js'
import type { SignatureVerifier } from '../signing/index.js'
import type { AppendOutcome, StoredEvent } from '../events/records.js'
import type { TrustCheck, TrustVerdict } from '../trust/types.js'
import { UntrustedSignerError } from '../trust/index.js'
import type { UntrustedReason, UntrustedSignerDetails } from '../trust/index.js'
import type { MatchableEvent } from '../subscriptions/types.js'
import type { FrameRecordOutcome, ReceiveContext, ReceiveOutcome } from '../p2p/types.js'
import type { ImportResult } from '../contracts/node-facade.js'
import { CdgossipError } from '../errors.js'
import { RefusedByPolicyError, TopicMismatchError } from './errors.js'
import { refusalReason, type PipelineObservation } from './observation.js'
import type { EventPath } from '../contracts/observations.js'

/** A record this node's trust policy refused although a subscription would keep it if trusted. */
export interface PolicyRefusal {
  origin: string
  eventClass: EventClass
  sequence: number
  reason: UntrustedReason
  source: string
  /** the signer's trust name, when it has an entry */
  name?: string
  /** the peer that handed it over */
  from?: string
  via: 'gossip' | 'sync'
}

/**
 * A record to store. `aliasWithin`: the same (source, id) with identical data already held from
 * another node of the signer's community is a duplicate, not a conflict.
 */
export interface ReceiveItem { event: SignedEvent, trusted: boolean, aliasWithin?: (heldOrigin: string) => boolean }

export interface ReceiveStore {
  append(event: SignedEvent, meta: Omit<ReceiveItem, 'event'>): Promise<AppendOutcome>
  /** all or nothing, in one write */
  appendBatch(items: ReceiveItem[]): Promise<AppendOutcome[]>
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
  /**
   * whether two signers are nodes of one community: then the same (source, id) with identical
   * CDEvent data signed by both is a duplicate, not a conflict (the store keeps the second as an
   * alias). @default never (a taken (source, id) under other data or another signer is a conflict)
   */
  sameCommunity?(a: string, b: string): boolean
  /**
   * told when a record arrives beyond the highest sequence held; which sequences are missing is
   * read from the store when the repair runs (more may have arrived by then)
   */
  gap(origin: string, eventClass: EventClass): void
  /** told what became of every record (metrics, per-peer figures, logs); must not throw */
  observe?(observation: PipelineObservation): void
  /**
   * told of a genuine gossip or sync record this node's trust refuses although a subscription
   * would keep it if trusted: a known refusal, not a missing record (the node remembers it)
   */
  refused?(refusal: PolicyRefusal): void
  /**
   * whether to forward (relay) genuine gossip records of origins this node does not trust and
   * does not store: their relay classes, within the untrusted-origin budget. One record, or those
   * of one frame, which travels whole or not at all: all of them or none. @default never
   */
  forwardUntrusted?(events: readonly SignedEvent[]): boolean
  /** where Ed25519 signatures are checked; @default the process's worker pool (sharedVerifier) */
  verifier?: SignatureVerifier
}

type ReceiveOptions = Partial<Pick<ReceiveContext, 'expectedClass' | 'from' | 'via'>> & { keepAll?: boolean }

/**
 * verify → validate → trust → store → deliver, for records from the network (gossip, sync,
 * import). Every check runs before anything is stored or forwarded (the gossip validator
 * awaits this), in the order: decoding and signature, CDEvent schema, consistency of
 * topic/class and of CloudEvent attributes with the CDEvent context — what is invalid for every
 * node, thrown as errors gossip Rejects — then this node's policy: trust and subscriptions. A
 * genuine record the trust refuses is a policy refusal (Ignored, never the sender's fault): the
 * node remembers it when a subscription would keep it, and a relay may still forward it. The
 * record is kept exactly as signed (its wire bytes), so every node serves byte-identical records.
 */
export class ReceivePipeline {
  private readonly components: ReceivePipelineComponents
  private readonly verifier: SignatureVerifier

  constructor (components: ReceivePipelineComponents) {
    this.components = components
    this.verifier = components.verifier ?? sharedVerifier()
  }

  /**
   * An export's records, one by one, through the same checks as gossip but kept whatever the
   * subscriptions say. A record refused with a CdgossipError is listed with its index and the
   * import goes on; anything else (a bug, the store failing) ends it.
   */
  async importRecords (records: readonly Uint8Array[]): Promise<ImportResult> {
    const result: ImportResult = { stored: 0, duplicates: 0, refused: [] }
    for (const [index, bytes] of records.entries()) {
      try {
        const outcome = await this.receive(bytes, { keepAll: true })
        if (outcome.status === 'stored') result.stored++
        else result.duplicates++
      } catch (err) {
        if (!(err instanceof CdgossipError)) throw err
        result.refused.push({ index, code: err.code, message: err.message })
      }
    }
    return result
  }

  /**
   * `expectedClass` is the gossip topic's or the sync request's class; imports have none and
   * keep every valid record (`keepAll`), whatever the subscriptions say.
   */
  async receive (bytes: Uint8Array, context: ReceiveOptions = {}): Promise<ReceiveOutcome> {
    // a refusal is counted under the topic's (or requested) class, bounded by what this node
    // joined, before the record's own claim
    const at: Position = { eventClass: context.expectedClass }
    try {
      const event = await this.open(bytes, context, at)
      const decision = this.decide(event, context, one => this.components.forwardUntrusted?.([one]) === true)
      const outcome = 'outcome' in decision ? decision.outcome : this.finish(event, await this.components.store.append(event, this.meta(event, decision.trusted)))
      this.observeOutcome(outcome, context)
      return strip(outcome)
    } catch (err) {
      this.observeFailure(err, at, context)
      throw err
    }
  }

  /**
   * The records of one gossip frame, together: all are opened (their signatures verified in one
   * go, across the verify workers and this thread) before any is stored, and the first
   * objectively invalid one is thrown, so a frame carrying a forgery stores nothing. Then each
   * meets this node's policy on its own (a refusal is that record's outcome, ledgered as when it
   * comes alone), and the records to keep are stored in one write. The records only a relay would
   * forward ask the untrusted-origin budget together: all of them, or none.
   */
  async receiveFrame (records: readonly Uint8Array[], context: ReceiveContext): Promise<FrameRecordOutcome[]> {
    const positions: Position[] = records.map(() => ({ eventClass: context.expectedClass }))
    const opened = await Promise.allSettled(records.map(async (bytes, i) => await this.open(bytes, context, positions[i] as Position)))
    const events: SignedEvent[] = []
    let invalid: { reason: unknown } | undefined
    opened.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        events.push(result.value)
        return
      }
      this.observeFailure(result.reason, positions[i] as Position, context)
      invalid ??= { reason: result.reason }
    })
    if (invalid !== undefined) throw invalid.reason

    const outcomes: Array<Outcome | FrameRefusal> = new Array(events.length)
    const keep: Array<{ index: number, event: SignedEvent, trusted: boolean }> = []
    // records only a relay would forward: decided together below, the frame travels whole or not at all
    const relayOnly: Array<{ index: number, event: SignedEvent, refused: RefusedByPolicyError | undefined }> = []
    const refuse = (index: number, err: RefusedByPolicyError): void => {
      this.observeFailure(err, positions[index] as Position, context)
      outcomes[index] = { status: 'refused', error: err }
    }
    events.forEach((event, index) => {
      try {
        const decision = this.decide(event, context, (one, refused) => {
          relayOnly.push({ index, event: one, refused })
          return true
        })
        if ('outcome' in decision) outcomes[index] = decision.outcome
        else keep.push({ index, event, trusted: decision.trusted })
      } catch (err) {
        if (!(err instanceof RefusedByPolicyError)) throw err
        refuse(index, err)
      }
    })
    if (relayOnly.length > 0 && this.components.forwardUntrusted?.(relayOnly.map(r => r.event)) !== true) {
      for (const { index, event, refused } of relayOnly) {
        if (refused !== undefined) refuse(index, refused)
        else outcomes[index] = { status: 'relayed', event, forward: false }
      }
    }
    let conflict: { reason: unknown } | undefined
    for (const [i, appended] of (await this.appendAll(keep)).entries()) {
      const { index, event } = keep[i] as { index: number, event: SignedEvent }
      if ('failure' in appended) {
        this.observeFailure(appended.failure, positions[index] as Position, context)
        conflict ??= { reason: appended.failure }
      } else {
        outcomes[index] = this.finish(event, appended)
      }
    }
    for (const outcome of outcomes) if (outcome !== undefined && outcome.status !== 'refused') this.observeOutcome(outcome, context)
    // a contradiction of the origin's own earlier record: the frame is Rejected like the record alone
    if (conflict !== undefined) throw conflict.reason
    return outcomes.map(o => o.status === 'refused' ? o : strip(o))
  }

  /**
   * One store write for all of `items`; should the store refuse the batch (a record contradicting
   * one already held refuses it all), each is appended alone, so the others are still kept and the
   * refused one carries its own error.
   */
  private async appendAll (items: ReadonlyArray<{ event: SignedEvent, trusted: boolean }>): Promise<Array<AppendOutcome | { failure: CdgossipError }>> {
    if (items.length === 0) return []
    const { store } = this.components
    try {
      return await store.appendBatch(items.map(({ event, trusted }) => ({ event, ...this.meta(event, trusted) })))
    } catch (err) {
      if (!(err instanceof CdgossipError) || err.code !== 'CDG_CONFLICTING_EVENT' || items.length === 1) throw err
    }
    const results: Array<AppendOutcome | { failure: CdgossipError }> = []
    for (const { event, trusted } of items) {
      try {
        results.push(await store.append(event, this.meta(event, trusted)))
      } catch (err) {
        if (!(err instanceof CdgossipError) || err.code !== 'CDG_CONFLICTING_EVENT') throw err
        results.push({ failure: err })
      }
    }
    return results
  }

  private observeOutcome (outcome: Outcome, context: ReceiveOptions): void {
    const { observe } = this.components
    if (observe === undefined) return
    const { event } = outcome
    const via: EventPath = context.via ?? 'import'
    const base = { via, eventClass: event.eventClass, origin: event.origin, sequence: event.sequence, ...(context.from === undefined ? {} : { from: context.from }) }
    if ('refusal' in outcome) observe({ ...base, outcome: 'policy', policy: outcome.refusal })
    else observe({ ...base, outcome: outcome.status })
  }

  private observeFailure (err: unknown, at: Position, context: ReceiveOptions): void {
    const { observe } = this.components
    if (observe === undefined) return
    const via = context.via ?? 'import'
    const from = context.from === undefined ? {} : { from: context.from }
    const d = err instanceof RefusedByPolicyError ? err.details : undefined
    if (d !== undefined) {
      observe({ via, outcome: 'policy', eventClass: d.eventClass, origin: d.origin, sequence: d.sequence, policy: d.reason, ...from })
    } else {
      observe({ via, outcome: 'refused', eventClass: at.eventClass, reason: refusalReason(err), ...(at.origin === undefined ? {} : { origin: at.origin }), ...from })
    }
  }

  /** The objective checks: what fails here is invalid for every node, whatever its policy. */
  private async open (bytes: Uint8Array, context: ReceiveOptions, at: Position): Promise<SignedEvent> {
    const signed = await openSignedRecordWith(bytes, this.verifier)
    at.origin = signed.origin
    const { cdevent, parsedType } = validateCDEvent(decodeCDEventData(signed.data))
    const eventClass = parsedType.eventClass
    at.eventClass ??= eventClass
    if (context.expectedClass !== undefined && eventClass !== context.expectedClass) throw new TopicMismatchError(context.expectedClass, eventClass)
    checkCloudEventConsistency(signed.attributes as unknown as Record<string, unknown>, cdevent)
    return { ...signed, cdevent, eventClass }
  }

  /**
   * This node's policy: trust, then subscriptions. Either what became of the record, or that it is
   * to be stored. `forward` says whether a genuine record of an origin this node does not trust
   * may be relayed (`refused`: what it is if not).
   */
  private decide (event: SignedEvent, context: ReceiveOptions, forward: (event: SignedEvent, refused?: RefusedByPolicyError) => boolean): { outcome: Outcome } | { trusted: boolean } {
    const { cdevent, eventClass } = event
    let verdict: TrustVerdict | undefined
    let refusal: UntrustedSignerDetails | undefined
    let refusalError: UntrustedSignerError | undefined
    try {
      verdict = this.components.trust({ origin: event.origin, source: event.attributes.source, eventClass })
    } catch (err) {
      if (!(err instanceof UntrustedSignerError) || err.details === undefined) throw err
      refusal = err.details
      refusalError = err
    }
    const outcome = typeof cdevent.subject.content.outcome === 'string' ? cdevent.subject.content.outcome : undefined
    const matchable: MatchableEvent = {
      eventClass,
      origin: event.origin,
      source: event.attributes.source,
      subjectId: cdevent.subject.id,
      // a refused record is matched as if trusted: would a subscription keep it if policy allowed?
      trusted: verdict?.trusted ?? true,
      ...(outcome === undefined ? {} : { outcome })
    }
    const wanted = context.keepAll === true || this.components.wanted(matchable, cdevent.context.timestamp)

    if (refusal !== undefined && refusalError !== undefined && wanted) {
      const via = context.via
      if (via === 'gossip' || via === 'sync') {
        // known, not missing: the node remembers it, sync skips it, a trust change brings it back
        this.components.refused?.({
          origin: event.origin,
          eventClass,
          sequence: event.sequence,
          reason: refusal.reason,
          source: event.attributes.source,
          ...(refusal.name === undefined ? {} : { name: refusal.name }),
          ...(context.from === undefined ? {} : { from: context.from }),
          via
        })
      }
      const refused = new RefusedByPolicyError(refusalError, {
        origin: event.origin, eventClass, sequence: event.sequence, reason: refusal.reason, ...(context.from === undefined ? {} : { from: context.from })
      })
      // genuine: a relay forwards it within the untrusted-origin budget, and stores nothing
      if (via === 'gossip' && forward(event, refused)) return { outcome: { status: 'relayed', event, refusal: refusal.reason } }
      throw refused
    }

    if (!wanted) {
      if (context.via === 'sync') this.components.skipped?.(event)
      // not ours, and from an origin this node does not trust: forwarded only as a relay would
      if (context.via === 'gossip' && (refusal !== undefined || verdict?.trusted === false)) {
        return { outcome: { status: 'relayed', event, forward: forward(event) } }
      }
      return { outcome: { status: 'relayed', event } }
    }
    // no separate "already held?" read: gossip dedupes by message id, sync asks only for what
    // is missing, and append itself reports a duplicate
    return { trusted: verdict?.trusted ?? false }
  }

  /** What the store is given for one record: with its community's aliasing when siblings exist. */
  private meta (event: SignedEvent, trusted: boolean): Omit<ReceiveItem, 'event'> {
    const { sameCommunity } = this.components
    return sameCommunity === undefined ? { trusted } : { trusted, aliasWithin: heldOrigin => sameCommunity(heldOrigin, event.origin) }
  }

  /** After the store write: tell of a stored record and of a gap it reveals. */
  private finish (event: SignedEvent, appended: AppendOutcome): Outcome {
    if (appended.status === 'duplicate') return { status: 'duplicate', event }
    this.components.stored(appended.stored)
    if (event.sequence > appended.highestBefore + 1) this.components.gap(event.origin, event.eventClass)
    return { status: 'stored', event }
  }
}

/** Where a record's checks got to: the class and origin a refusal is counted under. */
interface Position { eventClass?: EventClass, origin?: string }

/** A frame's record refused by this node's policy. */
type FrameRefusal = Extract<FrameRecordOutcome, { status: 'refused' }>

/** A relayed record this node refused by policy carries its reason until it is observed. */
type Outcome = ReceiveOutcome | { status: 'relayed', event: SignedEvent, refusal: UntrustedReason }

function strip (outcome: Outcome): ReceiveOutcome {
  return 'refusal' in outcome ? { status: 'relayed', event: outcome.event } : outcome
}
