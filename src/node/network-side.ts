import type { Logger } from 'pino'
import type { NodeConfig } from '../config.js'
import { readPeersFile, writePeersFile } from '../data-dir.js'
import type { EventClass } from '../events/types.js'
import type { Identity } from '../signing/index.js'
import type { EventStore } from '../store/index.js'
import { P2PService, type P2PInit } from '../p2p/index.js'
import { SyncService, type RefusalLedger, type SyncFloors } from '../p2p/sync/index.js'
import { FetchService, type FetchComponents } from '../p2p/fetch/index.js'
import type { ReceiveMonitor, ReceivePipeline } from '../pipeline/index.js'
import type { NodeMetrics } from '../metrics/index.js'

export interface NetworkParts {
  log: Logger
  config: Readonly<NodeConfig>
  identity: Identity
  transport: P2PInit['transport'] | undefined
  store: EventStore
  receiver: ReceivePipeline
  floors: SyncFloors
  refusals: RefusalLedger
  relayClasses: ReadonlySet<EventClass>
  monitor: ReceiveMonitor
  nodeMetrics: NodeMetrics
  /** the topics subscriptions need now */
  joinedClasses: () => EventClass[]
  /** the fetch protocol's reads and receive path (node/trace-fetch.ts) */
  fetch: Pick<FetchComponents, 'findRecords' | 'receiveFetched'>
}

/**
 * Builds and starts gossip (P2PService), catch-up sync and the on-demand fetch protocol over it;
 * each started part is pushed to `started`.
 */
export async function startNetwork (p: NetworkParts, started: Array<{ stop: () => Promise<void> }>): Promise<{ p2p: P2PService, sync: SyncService, fetch: FetchService }> {
  const { log, config, store, receiver, floors } = p
  const p2p = new P2PService({
    log: log.child({ component: 'p2p' }),
    receiveRecord: async (bytes, context) => await receiver.receive(bytes, context),
    receiveFrame: async (records, context) => await receiver.receiveFrame(records, context),
    libp2pMetrics: () => p.nodeMetrics.libp2pMetrics(),
    peerMemory: {
      load: async () => await readPeersFile(config.dataDir),
      save: async (content) => { await writePeersFile(config.dataDir, content) }
    }
  }, {
    network: config.network,
    privateKey: p.identity.privateKey,
    listen: [...config.p2p.listen],
    bootstrap: [...config.p2p.bootstrap],
    mdns: config.p2p.mdns,
    heartbeatIntervalMs: config.p2p.heartbeatMs,
    targetConnections: config.p2p.targetConnections,
    relayClasses: [...p.relayClasses],
    ...(p.transport === undefined ? {} : { transport: p.transport })
  })
  p2p.setClasses(p.joinedClasses())
  await p2p.start()
  started.push(p2p)

  const sync = new SyncService({
    log: log.child({ component: 'sync' }),
    libp2p: p2p.libp2p,
    receiveRecord: async (bytes, context) => await receiver.receive(bytes, context),
    sequenceStates: async (classes: EventClass[]) => await store.sequenceStates(classes),
    readSequenceRange: (origin, eventClass, from, to) => store.readSequenceRange(origin, eventClass, from, to),
    wantedClasses: p.joinedClasses,
    // Sync fetches every pair from its first unheld sequence; which records a subscription keeps
    // is decided by event time (subscriptionsWant), and skipped history raises the floor (SyncFloors),
    // so a node that was offline still gets everything signed after its subscriptions started.
    startPoint: () => 'beginning',
    floor: async (origin, eventClass) => await floors.get(origin, eventClass),
    setFloor: async (origin, eventClass, floor) => { await floors.set(origin, eventClass, floor) },
    refusals: p.refusals,
    staleGap: (origin, eventClass, missing, rounds) => { p.monitor.staleGap(origin, eventClass, missing, rounds) }
  }, { intervalMs: config.sync.intervalSeconds * 1000 })
  await sync.start()
  started.push(sync)

  const fetch = new FetchService({ log: log.child({ component: 'fetch' }), libp2p: p2p.libp2p, ...p.fetch }, { network: config.network })
  await fetch.start()
  started.push(fetch)
  return { p2p, sync, fetch }
}
