import type { NodeInfo } from '../contracts/node-facade.js'
import type { EventStore } from '../store/index.js'
import type { TrustPolicy } from '../trust/index.js'
import type { P2PService } from '../p2p/index.js'
import type { RefusalLedger, SyncService } from '../p2p/sync/index.js'
import type { FetchService } from '../p2p/fetch/index.js'
import type { ReceiveMonitor } from '../pipeline/index.js'

/** What GET /v1/info reads from the running node. */
export interface NodeInfoSources {
  peerId: string
  network: string
  version: string
  apiUrl: string
  store: EventStore
  p2p: P2PService
  sync: SyncService
  fetch: FetchService
  refusals: RefusalLedger
  trust: TrustPolicy
  monitor: ReceiveMonitor
}

/** GET /v1/info: the node's identity, topics, counters and per-peer figures, with trusted names filled in. */
export async function assembleNodeInfo (s: NodeInfoSources): Promise<NodeInfo> {
  const stats = await s.store.stats()
  const gossip = s.p2p.counters()
  const counters: Record<string, number> = { 'gossip.published': gossip.published }
  for (const [k, v] of Object.entries(gossip.received)) counters[`gossip.received.${k}`] = v
  Object.assign(counters, s.monitor.counters())
  // the protocol's side: requests asked and answered (what became of fetched records is `received.fetch.*`)
  for (const [k, v] of Object.entries(s.fetch.state())) counters[`fetch.${k}`] = v
  const { trust } = s
  const summary = s.refusals.summary()
  const pubsub = s.p2p.libp2p.services.pubsub
  const connected = new Set(s.p2p.peers().map(p => p.peerId))
  return {
    peerId: s.peerId,
    network: s.network,
    version: s.version,
    apiUrl: s.apiUrl,
    listenAddresses: s.p2p.multiaddrs(),
    topics: s.p2p.topics(),
    peers: s.p2p.peers().length,
    counters,
    trustMode: trust.mode,
    store: stats,
    sync: s.sync.state(),
    refusals: { ...summary, origins: summary.origins.map(o => withName(o, trust.nameOf(o.origin))) },
    peerStats: s.monitor.peerFigures().map(f => ({
      ...withName(f, trust.nameOf(f.peerId)),
      connected: connected.has(f.peerId),
      ...(connected.has(f.peerId) ? { gossipScore: pubsub.getScore(f.peerId) } : {})
    }))
  }
}

function withName<T extends object> (value: T, name: string | undefined): T & { name?: string } {
  return name === undefined ? value : { ...value, name }
}
