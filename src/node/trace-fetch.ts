import type { Logger } from 'pino'
import { EventStore, ConflictingEventError } from '../store/index.js'
import { ReceivePipeline, type ReceivePipelineComponents } from '../pipeline/index.js'
import { SyncProtocolError } from '../p2p/sync/index.js'
import { MAX_RECORDS_PER_REF, type FetchComponents, type FetchedRecord } from '../p2p/fetch/index.js'
import { refKeyOf, refsAnswered } from '../trace/index.js'
import type { TraceStore } from '../trace/index.js'
import type { TraceRef } from '../contracts/trace.js'
import type { AppendOutcome } from '../events/records.js'
import type { SignedEvent } from '../events/types.js'

/**
 * Fetched-for-trace records (`?resolve=true`): kept in a store of their own beside the node's
 * store, so they are held and traceable but never reach what reads the node's store in arrival
 * or sequence order: subscriptions (webhooks, triggers, streams), sync's summaries and gap repair,
 * sync floors, gossip. When gossip or sync later brings the same record, the node's store keeps
 * it as any other (and delivers it), and the trace reads it from there.
 */

export async function openFetchedStore (path: string, log: Logger): Promise<EventStore> {
  const store = new EventStore({ log: log.child({ component: 'trace-fetched' }) }, { path })
  await store.start()
  return store
}

export interface FetchedReceiverParts {
  /** the node's store: a record it holds is not fetched again */
  store: EventStore
  fetched: EventStore
  trust: ReceivePipelineComponents['trust']
  observe: NonNullable<ReceivePipelineComponents['observe']>
}

/**
 * The receive path of a fetched record: the receive pipeline's checks (signature, schema,
 * consistency) and the trust policy, then a check that it answers one of the references asked
 * for, then the fetched store. A record trust refuses throws RefusedByPolicyError and is not kept.
 */
export function fetchedReceiver (p: FetchedReceiverParts): FetchComponents['receiveFetched'] {
  return async (bytes, { from, refs }) => {
    let matched: TraceRef[] = []
    const pipeline = new ReceivePipeline({
      store: {
        append: async (event, meta) => { matched = answered(event, refs); return await keep(p, event, meta) },
        // a fetch answer is read record by record (receive), never as a gossip frame
        appendBatch: async () => { throw new Error('fetched records are stored one at a time') }
      },
      trust: p.trust,
      // kept whatever the subscriptions say (keepAll), and never handed to them
      wanted: () => true,
      stored: () => {},
      gap: () => {},
      observe: p.observe
    })
    const outcome = await pipeline.receive(bytes, { from, via: 'fetch', keepAll: true })
    const result: FetchedRecord = { status: outcome.status === 'stored' ? 'stored' : 'duplicate', event: outcome.event, matched }
    return result
  }
}

function answered (event: SignedEvent, refs: readonly TraceRef[]): TraceRef[] {
  const matched = refsAnswered(event.cdevent, event.eventClass, refs)
  if (matched.length === 0) throw new SyncProtocolError('fetch answer holds a record nobody asked for', { digest: event.digest })
  return matched
}

async function keep (p: FetchedReceiverParts, event: SignedEvent, meta: { trusted: boolean }): Promise<AppendOutcome> {
  const { source, id } = event.cdevent.context
  const held = await p.store.getBySourceAndId(source, id)
  if (held !== undefined) {
    if (held.event.digest !== event.digest) throw new ConflictingEventError({ kind: 'source-id', digest: event.digest, existingDigest: held.event.digest })
    return { status: 'duplicate', stored: held }
  }
  return await p.fetched.append(event, meta)
}

/**
 * The serving side's reads: held records (the node's store, then the fetched store) that answer
 * each reference, from the trace, chain and (source, id) indexes, at most MAX_RECORDS_PER_REF per
 * reference, each record once.
 */
export function recordFinder (stores: readonly TraceStore[]): FetchComponents['findRecords'] {
  return async function * (refs) {
    const sent = new Set<string>()
    for (const ref of refs) {
      let count = 0
      for (const store of stores) {
        for (const digest of await digestsFor(store, ref)) {
          if (count >= MAX_RECORDS_PER_REF) break
          if (sent.has(digest)) continue
          const stored = await store.get(digest)
          // index keys may be truncated: the record's own facts decide
          if (stored === undefined || refsAnswered(stored.event.cdevent, stored.event.eventClass, [ref]).length === 0) continue
          sent.add(digest)
          count++
          yield stored.event.bytes
        }
      }
    }
  }
}

async function digestsFor (store: TraceStore, ref: TraceRef): Promise<string[]> {
  switch (ref.kind) {
    case 'chain':
      return await store.chainDigests(ref.id, MAX_RECORDS_PER_REF)
    case 'context': {
      if (ref.source === undefined) return await store.traceHolders(refKeyOf(ref), MAX_RECORDS_PER_REF)
      const stored = await store.getBySourceAndId(ref.source, ref.id)
      return stored === undefined ? [] : [stored.event.digest]
    }
    case 'entity': {
      const key = refKeyOf(ref)
      const holders = await store.traceHolders(key, MAX_RECORDS_PER_REF)
      if (ref.referrers !== true) return holders
      return [...holders, ...(await store.traceReferrers(key, MAX_RECORDS_PER_REF)).map(r => r.digest)]
    }
  }
}
