import type { PrivateKey } from '@libp2p/interface'
import {
  checkCloudEventConsistency, encodeCDEventData, eventClassOf, MAX_REPORTED_VIOLATIONS, toCloudEventAttributes, validateCDEvent
} from '../events/index.js'
import type { EventClass, SignedEvent } from '../events/types.js'
import { EventTooLargeError, MAX_RECORD_BYTES, signCloudEvent } from '../signing/index.js'
import { CdgossipError, isCdgossipError } from '../errors.js'
import { ConflictingEventError, takeGroup } from '../store/index.js'
import type { AppendOutcome, StoredEvent } from '../events/records.js'
import type { PublishItem, PublishReceipt } from '../contracts/node-facade.js'
import { SerialQueue } from './serial-queue.js'
import { refusalReason, type PipelineObservation } from './observation.js'

/** The store operations local publishing needs. */
export interface PublishStore {
  getBySourceAndId(source: string, id: string): Promise<StoredEvent | undefined>
  highestSequence(origin: string, eventClass: EventClass): Promise<number>
  appendBatch(items: Array<{ event: SignedEvent, trusted: boolean }>): Promise<AppendOutcome[]>
}

export interface PublishPipelineComponents {
  store: PublishStore
  signer: { privateKey: PrivateKey, peerId: string }
  /** best-effort gossip of a stored record; never throws */
  gossip(eventClass: EventClass, bytes: Uint8Array): void
  /** told of each newly stored record, in store order */
  stored(stored: StoredEvent): void
  /** told what became of every published event (metrics); must not throw */
  observe?(observation: PipelineObservation): void
}

interface Prepared {
  index: number
  eventClass: EventClass
  data: Uint8Array
  item: ReturnType<typeof validateCDEvent>
}

/** A validated publish request waiting for the next group commit. */
interface WaitingPublish {
  prepared: Prepared[]
  at: CommitPosition
  resolve: (receipts: PublishReceipt[]) => void
  reject: (err: unknown) => void
}

/**
 * Most events one group commit signs and writes; a single larger request still goes alone. Big
 * enough to amortise the write, small enough that one commit stays a few tens of milliseconds.
 */
const MAX_GROUP_ITEMS = 500

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

function receipt (event: SignedEvent, status: PublishReceipt['status']): PublishReceipt {
  return {
    digest: event.digest,
    id: event.attributes.id,
    source: event.attributes.source,
    type: event.attributes.type,
    class: event.eventClass,
    sequence: event.sequence,
    status
  }
}

/**
 * validate → sign → store → gossip, for events this node's own tools publish.
 *
 * Validation runs outside the queue (it is pure and the costliest step after signing).
 * Sequence assignment, signing and the store write run in one serial queue, several waiting
 * requests at a time (group commit): the next sequence is the store's highest + 1, and the
 * record carrying it is written in the same atomic batch,
 * so a crash can only lose an event that was never acknowledged, and sequences stay contiguous
 * and never repeat. Gossip comes after the write: what a peer sees is always held here first.
 */
export class PublishPipeline {
  private readonly components: PublishPipelineComponents
  private readonly queue = new SerialQueue()
  private readonly waiting: WaitingPublish[] = []
  private commitScheduled = false

  constructor (components: PublishPipelineComponents) {
    this.components = components
  }

  /** All-or-nothing for a batch: any invalid, conflicting or oversized item fails the whole call. */
  async publish (items: PublishItem[]): Promise<PublishReceipt[]> {
    const { observe } = this.components
    // the class of the event being handled, so a refusal can be counted under it
    const at: CommitPosition = {}
    try {
      const prepared: Prepared[] = []
      const refused: RefusedItem[] = []
      for (const [index, input] of items.entries()) {
        const hint = classHint(input.cdevent)
        if (refused.length === 0) at.eventClass = hint
        try {
          const item = validateCDEvent(input.cdevent)
          if (input.cloudEventAttributes !== undefined) checkCloudEventConsistency(input.cloudEventAttributes, item.cdevent)
          prepared.push({ index, eventClass: item.parsedType.eventClass, data: encodeCDEventData(item.cdevent), item })
        } catch (err) {
          // one event alone keeps its own error; a batch goes on, to name every bad event at once
          if (items.length === 1 || !isCdgossipError(err)) throw err
          refused.push({ index, id: idHint(input.cdevent), err })
        }
      }
      if (refused.length > 0) throw batchRefusal(items.length, refused)
      at.eventClass = undefined
      const receipts = await new Promise<PublishReceipt[]>((resolve, reject) => {
        this.waiting.push({ prepared, at, resolve, reject })
        if (!this.commitScheduled) this.scheduleCommit()
      })
      for (const r of receipts) observe?.({ via: 'publish', outcome: r.status === 'created' ? 'stored' : 'duplicate', eventClass: r.class })
      return receipts
    } catch (err) {
      observe?.({ via: 'publish', outcome: 'refused', eventClass: at.eventClass, reason: refusalReason(err) })
      // a conflict or an oversized record found while committing a batch: name its event too
      if (items.length > 1 && at.index !== undefined && isCdgossipError(err) && !hasProblemList(err)) {
        throw batchRefusal(items.length, [{ index: at.index, id: idHint(items[at.index]?.cdevent), err }])
      }
      throw err
    }
  }

  /** Drains queued publishes (shutdown finishes in-flight work before the store closes). */
  async drain (): Promise<void> {
    await this.queue.idle()
  }

  private scheduleCommit (): void {
    this.commitScheduled = true
    void this.queue.run(async () => { await this.commitWaiting() })
  }

  /**
   * Group commit: the requests that arrived while the previous commit ran are signed and written
   * together, in arrival order, in one store write; an idempotent repeat among them is answered
   * `existing` as commit() answers it. Should the shared write still be refused (a real conflict,
   * an oversized record), nothing of it was stored, and each request is committed alone so that
   * it gets exactly the answer it would have had on its own.
   */
  private async commitWaiting (): Promise<void> {
    this.commitScheduled = false
    const group = takeGroup(this.waiting, MAX_GROUP_ITEMS, (request) => request.prepared.length)
    if (this.waiting.length > 0) this.scheduleCommit()
    if (group.length > 1) {
      const combined: Prepared[] = []
      for (const request of group) {
        for (const p of request.prepared) combined.push({ ...p, index: combined.length })
      }
      let receipts: PublishReceipt[] | undefined
      try {
        receipts = await this.commit(combined, {})
      } catch {
        // answered one by one below
      }
      if (receipts !== undefined) {
        let offset = 0
        for (const request of group) {
          request.resolve(receipts.slice(offset, offset + request.prepared.length))
          offset += request.prepared.length
        }
        return
      }
    }
    for (const request of group) {
      try {
        request.resolve(await this.commit(request.prepared, request.at))
      } catch (err) {
        request.reject(err)
      }
    }
  }

  /**
   * The store's append already refuses a taken (source, id), so a fresh event needs no lookup of
   * its own: write optimistically, and only when the store reports a (source, id) conflict look
   * each event up to tell an idempotent repeat (`existing`) from a real conflict (409). Nothing
   * was written by the refused batch, so the sequences it would have used are still free.
   */
  private async commit (prepared: Prepared[], at: CommitPosition): Promise<PublishReceipt[]> {
    try {
      return await this.commitWith(prepared, at, false)
    } catch (err) {
      if (!(err instanceof ConflictingEventError) || err.details?.kind !== 'source-id') throw err
      return await this.commitWith(prepared, at, true)
    }
  }

  private async commitWith (prepared: Prepared[], at: CommitPosition, lookup: boolean): Promise<PublishReceipt[]> {
    const { store, signer } = this.components
    const receipts: PublishReceipt[] = new Array(prepared.length)
    const fresh: Array<{ index: number, event: SignedEvent }> = []
    const nextSequence = new Map<EventClass, number>()
    const inBatch = new Map<string, SignedEvent>()

    for (const p of prepared) {
      at.eventClass = p.eventClass
      at.index = p.index
      const { cdevent } = p.item
      const key = `${cdevent.context.source}\u0000${cdevent.context.id}`
      const earlier = inBatch.get(key)
      const existing = earlier ?? (lookup ? (await store.getBySourceAndId(cdevent.context.source, cdevent.context.id))?.event : undefined)
      if (existing !== undefined) {
        if (!sameBytes(existing.data, p.data)) {
          // not signed yet, so the refused event has no digest of its own
          throw new ConflictingEventError({ kind: 'source-id', digest: '', existingDigest: existing.digest })
        }
        receipts[p.index] = receipt(existing, 'existing')
        continue
      }
      let sequence = nextSequence.get(p.eventClass)
      if (sequence === undefined) sequence = await store.highestSequence(signer.peerId, p.eventClass) + 1
      nextSequence.set(p.eventClass, sequence + 1)

      const signed = signCloudEvent({ attributes: toCloudEventAttributes(cdevent), data: p.data, sequence }, signer)
      if (signed.bytes.length > MAX_RECORD_BYTES) {
        throw new EventTooLargeError(signed.bytes.length, MAX_RECORD_BYTES)
      }
      const event: SignedEvent = { ...signed, cdevent, eventClass: p.eventClass }
      inBatch.set(key, event)
      fresh.push({ index: p.index, event })
    }

    at.eventClass = undefined
    at.index = undefined
    if (fresh.length > 0) {
      const outcomes = await store.appendBatch(fresh.map(f => ({ event: f.event, trusted: true })))
      outcomes.forEach((outcome, i) => {
        const f = fresh[i] as { index: number, event: SignedEvent }
        receipts[f.index] = receipt(f.event, outcome.status === 'stored' ? 'created' : 'existing')
        if (outcome.status === 'stored') {
          this.components.stored(outcome.stored)
          this.components.gossip(f.event.eventClass, f.event.bytes)
        }
      })
    }
    return receipts
  }
}

/** Where a publish stands, for what a refusal reports: the class and the event (of its request) at hand. */
interface CommitPosition {
  eventClass?: EventClass
  index?: number
}

/** Whether an error already lists its problems (a batch refusal built by validation). */
function hasProblemList (err: CdgossipError): boolean {
  const details = err.details as { violations?: unknown, mismatches?: unknown } | undefined
  return Array.isArray(details?.violations) || Array.isArray(details?.mismatches)
}

/** An event of a batch that was refused. */
interface RefusedItem {
  index: number
  id: string | undefined
  err: CdgossipError
}

/** An id echoed back from a refused event is the client's own string: cut it. */
const MAX_ECHOED_ID = 128

/**
 * One error for a batch with refused events, under the first one's code: each of its violations
 * and mismatches carries the event's `index` (from 0, in request order) and `id`, so a producer
 * learns every bad event of the batch at once. Bounded like a single event's violations.
 */
function batchRefusal (total: number, refused: RefusedItem[]): CdgossipError {
  const violations: Array<Record<string, unknown>> = []
  const mismatches: Array<Record<string, unknown>> = []
  for (const { index, id, err } of refused) {
    const where = { index, ...(id === undefined ? {} : { id }) }
    const details = err.details as { violations?: unknown, mismatches?: unknown, path?: unknown } | undefined
    if (Array.isArray(details?.mismatches)) {
      for (const m of details.mismatches) if (mismatches.length < MAX_REPORTED_VIOLATIONS) mismatches.push({ ...where, ...(m as object) })
    } else if (Array.isArray(details?.violations)) {
      for (const v of details.violations as Array<{ path: string, message: string }>) if (violations.length < MAX_REPORTED_VIOLATIONS) violations.push({ ...where, path: v.path, message: v.message })
    } else if (violations.length < MAX_REPORTED_VIOLATIONS) {
      violations.push({ ...where, path: typeof details?.path === 'string' ? details.path : '', message: err.message })
    }
  }
  const first = refused[0] as RefusedItem
  return new CdgossipError(first.err.code, `${refused.length} of ${total} events in the batch are refused; nothing was stored (each violation names its event's index, from 0, and id)`, {
    details: { ...(violations.length > 0 ? { violations } : {}), ...(mismatches.length > 0 ? { mismatches } : {}) }
  })
}

/** The id an event claims, read before validation (cut when long); undefined when absent. */
function idHint (cdevent: unknown): string | undefined {
  const context = typeof cdevent === 'object' && cdevent !== null ? (cdevent as { context?: unknown }).context : undefined
  const id = typeof context === 'object' && context !== null ? (context as { id?: unknown }).id : undefined
  if (typeof id !== 'string') return undefined
  return id.length > MAX_ECHOED_ID ? `${id.slice(0, MAX_ECHOED_ID)}…` : id
}

/** The class an event claims, read before validation; undefined when its type is unreadable. */
function classHint (cdevent: unknown): EventClass | undefined {
  const context = typeof cdevent === 'object' && cdevent !== null ? (cdevent as { context?: unknown }).context : undefined
  const type = typeof context === 'object' && context !== null ? (context as { type?: unknown }).type : undefined
  return typeof type === 'string' ? eventClassOf(type) : undefined
}
