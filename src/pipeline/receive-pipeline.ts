import { checkCloudEventConsistency, decodeCDEventData, validateCDEvent } from '../events/index.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import { openSignedRecordWith, sharedVerifier } from '../signing/index.js'
import type { SignatureVerifier } from '../signing/index.js'
import type { AppendOutcome, StoredEvent } from '../events/records.js'
import type { TrustCheck, TrustVerdict } from '../trust/types.js'
import { UntrustedSignerError } from '../trust/index.js'
import type { UntrustedReason, UntrustedSignerDetails } from '../trust/index.js'
import type { MatchableEvent } from '../subscriptions/types.js'
import type { ReceiveContext, ReceiveOutcome } from '../p2p/types.js'
import type { ImportResult } from '../contracts/node-facade.js'
import { CdgossipError } from '../errors.js'
import { RefusedByPolicyError, TopicMismatchError } from './errors.js'
import { refusalReason, type PipelineObservation } from './observation.js'

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

export interface ReceiveStore {
  append(event: SignedEvent, meta: { trusted: boolean, aliasWithin?: (heldOrigin: string) => boolean }): Promise<AppendOutcome>
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
   * whether to forward (relay) a genuine gossip record of an origin this node does not trust and
   * does not store: its relay classes, within the untrusted-origin budget. @default never
   */
  forwardUntrusted?(event: SignedEvent): boolean
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
    const { observe } = this.components
    if (observe === undefined) return strip(await this.process(bytes, context, {}))
    const via = context.via ?? 'import'
    // a refusal is counted under the topic's (or requested) class, bounded by what this node
    // joined, before the record's own claim
    const at: { eventClass?: EventClass, origin?: string } = { eventClass: context.expectedClass }
    const from = context.from === undefined ? {} : { from: context.from }
    try {
      const outcome = await this.process(bytes, context, at)
      const { event } = outcome
      if ('refusal' in outcome) {
        observe({ via, outcome: 'policy', eventClass: event.eventClass, origin: event.origin, sequence: event.sequence, policy: outcome.refusal, ...from })
      } else {
        observe({ via, outcome: outcome.status, eventClass: event.eventClass, origin: event.origin, sequence: event.sequence, ...from })
      }
      return strip(outcome)
    } catch (err) {
      const d = err instanceof RefusedByPolicyError ? err.details : undefined
      if (d !== undefined) {
        observe({ via, outcome: 'policy', eventClass: d.eventClass, origin: d.origin, sequence: d.sequence, policy: d.reason, ...from })
      } else {
        observe({ via, outcome: 'refused', eventClass: at.eventClass, reason: refusalReason(err), ...(at.origin === undefined ? {} : { origin: at.origin }), ...from })
      }
      throw err
    }
  }

  private async process (bytes: Uint8Array, context: ReceiveOptions, at: { eventClass?: EventClass, origin?: string }): Promise<Outcome> {
    // objective checks first: what fails here is invalid for every node, whatever its policy
    const signed = await openSignedRecordWith(bytes, this.verifier)
    at.origin = signed.origin
    const { cdevent, parsedType } = validateCDEvent(decodeCDEventData(signed.data))
    const eventClass = parsedType.eventClass
    at.eventClass ??= eventClass
    if (context.expectedClass !== undefined && eventClass !== context.expectedClass) throw new TopicMismatchError(context.expectedClass, eventClass)
    checkCloudEventConsistency(signed.attributes as unknown as Record<string, unknown>, cdevent)
    const event: SignedEvent = { ...signed, cdevent, eventClass }

    // this node's policy: trust, then subscriptions
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
      // genuine: a relay forwards it within the untrusted-origin budget, and stores nothing
      if (via === 'gossip' && this.components.forwardUntrusted?.(event) === true) return { status: 'relayed', event, refusal: refusal.reason }
      throw new RefusedByPolicyError(refusalError, {
        origin: event.origin, eventClass, sequence: event.sequence, reason: refusal.reason, ...(context.from === undefined ? {} : { from: context.from })
      })
    }

    if (!wanted) {
      if (context.via === 'sync') this.components.skipped?.(event)
      // not ours, and from an origin this node does not trust: forwarded only as a relay would
      if (context.via === 'gossip' && (refusal !== undefined || verdict?.trusted === false)) {
        return { status: 'relayed', event, forward: this.components.forwardUntrusted?.(event) === true }
      }
      return { status: 'relayed', event }
    }

    const { store } = this.components
    // no separate "already held?" read: gossip dedupes by message id, sync asks only for what
    // is missing, and append itself reports a duplicate
    const { sameCommunity } = this.components
    const appended = await store.append(event, {
      trusted: verdict?.trusted ?? false,
      ...(sameCommunity === undefined ? {} : { aliasWithin: (heldOrigin: string) => sameCommunity(heldOrigin, event.origin) })
    })
    if (appended.status === 'duplicate') return { status: 'duplicate', event }
    this.components.stored(appended.stored)
    const { highestBefore } = appended
    if (event.sequence > highestBefore + 1) this.components.gap(event.origin, eventClass)
    return { status: 'stored', event }
  }
}

/** A relayed record this node refused by policy carries its reason until it is observed. */
type Outcome = ReceiveOutcome | { status: 'relayed', event: SignedEvent, refusal: UntrustedReason }

function strip (outcome: Outcome): ReceiveOutcome {
  return 'refusal' in outcome ? { status: 'relayed', event: outcome.event } : outcome
}
