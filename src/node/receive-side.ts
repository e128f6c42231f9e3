import type { Logger } from 'pino'
import type { EventClass } from '../events/types.js'
import type { StoredEvent } from '../events/records.js'
import type { EventStore } from '../store/index.js'
import type { TrustPolicy } from '../trust/index.js'
import { RefusalLedger, SyncFloors, type SyncService } from '../p2p/sync/index.js'
import { GapWatcher, ReceivePipeline, RelayBudget, type ReceiveMonitor, type ReceivePipelineComponents } from '../pipeline/index.js'
import type { NodeMetrics } from '../metrics/index.js'

export interface ReceiveSideParts {
  log: Logger
  store: EventStore
  trust: TrustPolicy
  /** classes this node forwards for other communities (config p2p.relay, expanded) */
  relayClasses: ReadonlySet<EventClass>
  monitor: ReceiveMonitor
  nodeMetrics: NodeMetrics
  wanted: ReceivePipelineComponents['wanted']
  sameCommunity: NonNullable<ReceivePipelineComponents['sameCommunity']>
  stored: (stored: StoredEvent) => void
  /** the node's sync service once it runs; gap repair waits for it */
  sync: () => SyncService | undefined
}

export interface ReceiveSide {
  floors: SyncFloors
  /** sequences refused by this node's trust policy: known, not missing */
  refusals: RefusalLedger
  gaps: GapWatcher
  receiver: ReceivePipeline
}

/**
 * Wires what a record arriving by gossip, sync or import goes through: the receive pipeline and
 * the books it keeps (sync floors, the refusal ledger, the gap watcher, the relay budget).
 */
export async function wireReceiveSide (p: ReceiveSideParts): Promise<ReceiveSide> {
  const { log, store, trust, monitor } = p
  const floors = new SyncFloors({ section: store.section<number>('sync-floors'), log: log.child({ component: 'sync' }) })
  // refusals made under another policy than today's (config edited while down) are forgotten here
  const refusals = new RefusalLedger({
    section: store.section('sync-refusals'),
    policy: origin => trust.fingerprint(origin),
    log: log.child({ component: 'sync' })
  })
  await refusals.load()
  const relayBudget = new RelayBudget()
  const gaps = new GapWatcher({
    // sequences refused by policy are known, not missing
    missingSequences: async (origin, eventClass, limit) => (await store.missingSequences(origin, eventClass, limit))
      .filter(seq => !refusals.has(origin, eventClass, seq)),
    requestGap: (origin, eventClass, from, to) => {
      p.sync()?.requestGap(origin, eventClass, from, to).catch(err => { log.warn({ err, origin, eventClass, from, to }, 'gap repair failed; the next sync round retries') })
    }
  })
  const receiver = new ReceivePipeline({
    store,
    trust: check => trust.check(check),
    wanted: p.wanted,
    sameCommunity: p.sameCommunity,
    skipped: event => { floors.skipped(event) },
    stored: p.stored,
    gap: (origin, eventClass) => { gaps.report(origin, eventClass) },
    refused: refusal => {
      refusals.record(refusal)
      monitor.refusedSource(refusal.origin, refusal.reason, refusal.source)
    },
    forwardUntrusted: events => {
      if (!events.every(event => p.relayClasses.has(event.eventClass))) return false
      if (relayBudget.takeAll(events.map(event => event.origin))) return true
      for (const event of events) monitor.relayLimited(event)
      return false
    },
    observe: o => {
      p.nodeMetrics.observeEvent(o)
      monitor.observe(o)
      if ((o.outcome === 'stored' || o.outcome === 'duplicate') && o.origin !== undefined && o.sequence !== undefined) {
        refusals.noteHeld(o.origin, o.eventClass, o.sequence)
      }
    }
  })
  return { floors, refusals, gaps, receiver }
}
