import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { InvalidRequestError, NotStartedError } from './errors.js'
import { maskConfigSecrets, type NodeConfig } from './config.js'
import { dataDirPaths, readApiToken } from './data-dir.js'
import { HooksListener, type ActiveSource, type BucketRate, type Source, type SourceInput } from './hooks/index.js'
import { HookSources, loadSources } from './node/hook-sources.js'
import { silentLogger } from './logger.js'
import { STANDARD_EVENT_CLASSES, expandClassPattern } from './events/index.js'
import type { EventClass } from './events/types.js'
import { loadOrCreateIdentity } from './signing/index.js'
import { EventStore } from './store/index.js'
import type { EventPage, EventQuery, StoredEvent } from './events/records.js'
import { TrustPolicy, trustKeyOf } from './trust/index.js'
import type { TrustEntry, TrustMode } from './trust/types.js'
import { SubscriptionRegistry, addConfigSubscriptions, subscriptionMatches, subscriptionsWant, toMatchable } from './subscriptions/index.js'
import type { Subscription } from './subscriptions/types.js'
import type { P2PInit, P2PService } from './p2p/index.js'
import type { RefusalLedger, SyncFloors, SyncService } from './p2p/sync/index.js'
import type { PeerInfo } from './p2p/types.js'
import { DeliveryService } from './delivery/index.js'
import { buildApi } from './api/index.js'
import type { DeadLetter, ImportResult, MetricsScrape, NodeConfiguration, NodeFacade, NodeInfo, PublishItem, PublishReceipt, SourceTestInput, SourceTestResult, SourceView, StreamOptions, SubscriptionInput } from './contracts/node-facade.js'
import { PublishPipeline, ReceiveMonitor, type GapWatcher, type ReceivePipeline } from './pipeline/index.js'
import { NodeMetrics } from './metrics/index.js'
import { stopInOrder } from './lifecycle.js'
import { assembleNodeInfo } from './node/node-info.js'
import { VERSION } from './node/version.js'
import { openNodeStream } from './node/event-stream.js'
import { wireReceiveSide } from './node/receive-side.js'
import { startNetwork } from './node/network-side.js'
import { fetchedReceiver, openFetchedStore, recordFinder } from './node/trace-fetch.js'
import type { FetchService } from './p2p/fetch/index.js'
import { TraceService } from './trace/index.js'
import { SiblingNodes, ownCommunity, sameCommunity } from './node/sibling-nodes.js'
import { DeliveredSets } from './node/delivered-sets.js'
import { CommunitySide } from './node/community-side.js'
import { CommunityTrust } from './node/community-trust.js'
import type { ArtifactView, ResolveOption, TraceGraph, TraceOptions } from './contracts/trace.js'
import type { CommunityPublishResult, CommunityView } from './contracts/community.js'

export { VERSION }
export { STREAM_HEARTBEAT_MS, STREAM_MAX_BUFFERED } from './node/event-stream.js'

/** Overrides for tests, demos and benchmarks; data only. */
export interface NodeOverrides {
  /** `memory` for large in-process meshes @default 'tcp' */
  transport?: P2PInit['transport']
  /** bound on every log line to tell nodes apart in one process */
  nodeName?: string
  /** the hooks listener's token buckets (tests reach the limit with a few requests) */
  hookRates?: { perSource?: BucketRate, perAddress?: BucketRate }
}


export type NodeStatus = 'stopped' | 'starting' | 'started' | 'stopping'

interface Running {
  store: EventStore
  /** fetched-for-trace records (`?resolve=true`), apart from the store (node/trace-fetch.ts) */
  fetched: EventStore
  p2p: P2PService
  sync: SyncService
  fetch: FetchService
  delivery: DeliveryService
  api: FastifyInstance
  publisher: PublishPipeline
  gaps: GapWatcher
  receiver: ReceivePipeline
  /** sequences refused by this node's trust policy: known, not missing */
  refusals: RefusalLedger
  /** listening while at least one source exists */
  hooks: HooksListener
  sources: HookSources
  floors: SyncFloors
  /** heartbeats and the sink lease, when the node has sibling nodes */
  community: CommunitySide | undefined
  apiUrl: string
  detach: Array<() => void>
}

/**
 * The composition root: the only module that imports every folder. It builds the pieces in
 * dependency order (store, trust, subscriptions, p2p + sync, delivery, api), starts them in that
 * order and stops them in reverse, and is the NodeFacade the REST API talks to. It stays one file
 * (~500 lines, over the ~400 the other modules keep to): the start order, the stop order and the
 * facade's delegations (about forty methods of a few lines each) read together; each part's
 * wiring or policy that is more than a few lines lives in src/node/ or in the part itself.
 */
export class CdgossipNode implements NodeFacade {
  readonly config: Readonly<NodeConfig>
  readonly log: Logger
  private readonly overrides: NodeOverrides
  private status: NodeStatus = 'stopped'
  private running: Running | undefined
  private peerIdValue: string | undefined
  private trust: TrustPolicy | undefined
  /** the verified community manifests the trust policy reads, and their control topic */
  private communities: CommunityTrust | undefined
  /** the other nodes of this node's community (none without `community.manifest`) */
  private siblings: SiblingNodes | undefined
  /** rebuilt on every start from the config file and the persisted API subscriptions */
  private subscriptions: SubscriptionRegistry
  private readonly storedListeners = new Set<(stored: StoredEvent) => void>()
  /** one registry per node for its life (counters survive a stop/start), read through `running` */
  private readonly nodeMetrics: NodeMetrics
  /** per-path counters, per-peer figures and rate-limited warnings of the receive path; for the node's life */
  private readonly monitor: ReceiveMonitor

  constructor (config: Readonly<NodeConfig>, options: { log?: Logger } & NodeOverrides = {}) {
    this.config = config
    this.log = options.log ?? silentLogger()
    this.overrides = { transport: options.transport, nodeName: options.nodeName, hookRates: options.hookRates }
    this.subscriptions = this.newRegistry()
    this.monitor = new ReceiveMonitor({
      log: this.log.child({ component: 'receive' }),
      trustEntry: origin => this.trust?.get(origin)
    })
    this.nodeMetrics = new NodeMetrics({
      log: this.log.child({ component: 'metrics' }),
      sources: {
        store: () => this.running?.store,
        p2p: () => this.running?.p2p,
        sync: () => this.running?.sync,
        refusals: () => this.running?.refusals.summary(0),
        delivery: () => this.running?.delivery,
        info: () => this.peerIdValue === undefined ? undefined : { version: VERSION, network: this.config.network, peerId: this.peerIdValue }
      }
    })
  }

  private newRegistry (): SubscriptionRegistry {
    return new SubscriptionRegistry({
      resolveName: peerId => this.trust?.nameOf(peerId),
      newId: () => randomUUID().slice(0, 8)
    })
  }

  get peerId (): string {
    if (this.peerIdValue === undefined) throw new NotStartedError('node')
    return this.peerIdValue
  }

  get state (): NodeStatus {
    return this.status
  }

  /** REST base URL, once started */
  get apiUrl (): string {
    return this.require().apiUrl
  }

  /** the hooks listener's base URL (`http://host:port`) while it listens (while a source exists) */
  get hooksUrl (): string | undefined {
    return this.running?.hooks.url
  }

  /** the libp2p multiaddrs peers can dial, once started */
  multiaddrs (): string[] {
    return this.require().p2p.multiaddrs()
  }

  /** For tests and tools in the same process: the running p2p service. */
  get p2p (): P2PService {
    return this.require().p2p
  }

  get sync (): SyncService {
    return this.require().sync
  }

  async start (): Promise<void> {
    if (this.status !== 'stopped') return
    this.status = 'starting'
    const started: Array<{ stop: () => Promise<void> }> = []
    try {
      await this.startComponents(started)
      this.status = 'started'
    } catch (err) {
      for (const component of started.reverse()) {
        await component.stop().catch(stopErr => { this.log.warn({ err: stopErr }, 'cleanup after failed start') })
      }
      this.running = undefined
      this.status = 'stopped'
      throw err
    }
  }

  private async startComponents (started: Array<{ stop: () => Promise<void> }>): Promise<void> {
    const { config, log } = this
    const paths = dataDirPaths(config.dataDir)
    const identity = await loadOrCreateIdentity(paths.identity)
    this.peerIdValue = identity.peerId
    const token = await readApiToken(config.dataDir)
    this.siblings = undefined

    const store = new EventStore({ log: log.child({ component: 'store' }) }, { path: paths.store })
    await store.start()
    started.push(store)
    const fetched = await openFetchedStore(paths.traceFetched, log)
    started.push(fetched)

    const communities: CommunityTrust = new CommunityTrust({
      log: log.child({ component: 'community' }),
      section: store.section('communities'),
      trustedRootKeys: (): ReadonlySet<string> => trust.communityKeys(),
      selfPeerId: identity.peerId,
      policyChanged: origins => { this.policyChanged(origins) }
    })
    this.communities = communities
    const trust = new TrustPolicy({
      selfPeerId: identity.peerId,
      isSibling: peerId => this.siblings?.isSibling(peerId) === true,
      memberships: peerId => communities.directory.membershipsOf(peerId)
    }, { mode: config.trust.mode, entries: config.trust.communities })
    for await (const [, entry] of store.section<TrustEntry>('trust').entries()) trust.add(entry)
    this.trust = trust
    // after the trust entries: they decide which communities are held
    await communities.load(config)
    const siblings = new SiblingNodes(identity.peerId, ownCommunity(communities.directory))
    this.siblings = siblings

    const sourceEntries = await loadSources(this.config.sources, store.section<Source>('sources'), log)

    this.subscriptions = this.newRegistry()
    await addConfigSubscriptions(this.subscriptions, config.subscriptions, store.section<string>('config-subscription-starts'))
    for await (const [, sub] of store.section<Subscription>('subscriptions').entries()) this.subscriptions.restore(sub)

    const relayClasses = new Set(config.p2p.relay.flatMap(p => expandClassPattern(p)))
    const { floors, refusals, gaps, receiver } = await wireReceiveSide({
      log,
      store,
      trust,
      relayClasses,
      monitor: this.monitor,
      nodeMetrics: this.nodeMetrics,
      // the community's own records are all kept: either node serves the whole community's history
      wanted: (event, eventTime) => siblings.isMember(event.origin) || subscriptionsWant(this.subscriptions, this.peerIdValue, event, eventTime),
      sameCommunity: (a, b) => sameCommunity(siblings, communities.directory, a, b),
      stored: stored => { this.emitStored(stored) },
      sync: () => this.running?.sync
    })
    started.push({ stop: async () => { await refusals.flush() } })
    started.push({ stop: async () => { gaps.stop() } })

    const { p2p, sync, fetch } = await startNetwork({
      log,
      config,
      identity,
      transport: this.overrides.transport,
      store,
      receiver,
      floors,
      refusals,
      relayClasses,
      monitor: this.monitor,
      nodeMetrics: this.nodeMetrics,
      joinedClasses: () => this.joinedClasses(),
      fetch: {
        findRecords: recordFinder([store, fetched]),
        receiveFetched: fetchedReceiver({
          store,
          fetched,
          trust: check => trust.check(check),
          observe: o => {
            this.nodeMetrics.observeEvent(o)
            this.monitor.observe(o)
          }
        })
      }
    }, started)
    await communities.startChannel(p2p, config.network)
    started.push({ stop: async () => { await communities.stopChannel() } })

    const delivered = siblings.siblings().length > 0 ? new DeliveredSets(store.section('community-delivered')) : undefined
    const delivery = new DeliveryService({
      log: log.child({ component: 'delivery' }),
      source: {
        readAfter: async (cursor, limit) => await store.readAfter(cursor, limit),
        getEvent: async digest => await store.get(digest),
        lastCursor: () => store.lastCursor(),
        cursorAtTime: async iso => await store.cursorAtTime(iso),
        onStored: listener => this.onStored(listener)
      },
      matches: (sub, stored) => subscriptionMatches(sub, toMatchable(stored), peerId => trust.nameOf(peerId)),
      progress: store.section('delivery-progress'),
      deadLetters: store.section('dead-letters'),
      onAttempt: attempt => { this.nodeMetrics.observeDeliveryAttempt(attempt) },
      ...(delivered === undefined ? {} : { shared: delivered })
    }, {})
    started.push(delivery)
    await delivery.syncSubscriptions(this.subscriptions.list())
    // with sibling nodes, webhooks and triggers run on the lease holder only (CommunitySide)
    const community = delivered === undefined
      ? undefined
      : new CommunitySide({
        log: log.child({ component: 'community' }),
        siblings,
        network: config.network,
        heartbeatMs: config.community.heartbeatMs,
        libp2p: p2p.libp2p,
        delivered,
        delivery
      })
    if (community === undefined) await delivery.start()
    else {
      await community.start()
      started.push(community)
    }

    const publisher = new PublishPipeline({
      store,
      signer: identity,
      gossip: (eventClass, bytes) => {
        p2p.publish(eventClass, bytes).catch(err => { log.warn({ err, eventClass }, 'gossip publish failed; sync will repair') })
      },
      stored: stored => { this.emitStored(stored) },
      observe: o => { this.nodeMetrics.observeEvent(o) }
    })

    const hooks = new HooksListener({
      log: log.child({ component: 'hooks' }),
      publish: async events => await publisher.publish(events.map(cdevent => ({ cdevent }))),
      source: (name): ActiveSource | undefined => sources.active(name),
      observe: (source, outcome) => { this.nodeMetrics.observeHookDelivery(source, outcome) }
    }, { bodyLimit: config.hooks.bodyLimit, ...this.overrides.hookRates })
    started.push(hooks)
    const sources = new HookSources(sourceEntries, { hooks, section: store.section<Source>('sources'), log }, { listen: config.hooks.listen })
    await sources.startListener()

    const api = await buildApi({ node: this, log: log.child({ component: 'api' }), observeRequest: sample => { this.nodeMetrics.observeHttpRequest(sample) } }, { token, bodyLimit: config.api.bodyLimit, version: VERSION })
    const address = await api.listen({ host: config.api.host, port: config.api.port })
    started.push({ stop: async () => { await api.close() } })
    const apiUrl = address.replace('[::1]', '127.0.0.1')

    const detach = [
      this.subscriptions.onChange(change => {
        p2p.setClasses(this.joinedClasses())
        if (change.type === 'removed') {
          void delivery.forgetSubscription(change.subscription.id)
          delivered?.forget(change.subscription.id).catch(err => { log.warn({ err }, 'could not forget community delivery progress') })
        }
        void delivery.syncSubscriptions(this.subscriptions.list())
      })
    ]
    this.running = { store, fetched, p2p, sync, fetch, delivery, api, publisher, gaps, receiver, refusals, floors, hooks, sources, community, apiUrl, detach }
  }

  /**
   * Stops in reverse start order: the API first (SSE streams end, no new publishes), then
   * in-flight publishes drain, delivery halts (its progress is already persisted), sync and
   * libp2p stop, and the store closes last. Every component is stopped even when one fails;
   * the failures are logged and rejected together as an AggregateError.
   */
  async stop (): Promise<void> {
    if (this.status !== 'started' || this.running === undefined) return
    this.status = 'stopping'
    const r = this.running
    try {
      await stopInOrder([
        { name: 'subscriptions', stop: () => { for (const d of r.detach) d() } },
        // no new tool deliveries first, then no new API requests: in-flight publishes drain next
        { name: 'hooks', stop: async () => { await r.hooks.stop() } },
        { name: 'api', stop: async () => { await r.api.close() } },
        { name: 'publisher', stop: async () => { await r.publisher.drain() } },
        { name: 'community', stop: async () => { await r.community?.stop() } },
        { name: 'delivery', stop: async () => { await r.delivery.stop() } },
        { name: 'gaps', stop: () => { r.gaps.stop() } },
        { name: 'fetch', stop: async () => { await r.fetch.stop() } },
        { name: 'communities', stop: async () => { await this.communities?.stopChannel() } },
        { name: 'sync', stop: async () => { await r.sync.stop() } },
        { name: 'p2p', stop: async () => { await r.p2p.stop() } },
        { name: 'refusals', stop: async () => { await r.refusals.flush() } },
        { name: 'floors', stop: async () => { await r.floors.idle() } },
        { name: 'store', stop: async () => { await r.store.stop() } },
        { name: 'trace-fetched', stop: async () => { await r.fetched.stop() } }
      ], this.log)
    } finally {
      this.running = undefined
      this.status = 'stopped'
    }
  }

  private require (): Running {
    if (this.status !== 'started' && this.status !== 'starting') throw new NotStartedError('node')
    if (this.running === undefined) throw new NotStartedError('node')
    return this.running
  }

  private requireTrust (): TrustPolicy {
    if (this.trust === undefined) throw new NotStartedError('node')
    return this.trust
  }

  /**
   * Topics to join: what subscriptions need (relay classes are joined by p2p itself); with sibling
   * nodes every standard class, since the community's records of every class are replicated.
   */
  private joinedClasses (): EventClass[] {
    if (this.siblings !== undefined && this.siblings.siblings().length > 0) return [...STANDARD_EVENT_CLASSES]
    return this.subscriptions.topicsFor(STANDARD_EVENT_CLASSES)
  }

  private emitStored (stored: StoredEvent): void {
    for (const listener of this.storedListeners) {
      try {
        listener(stored)
      } catch (err) {
        this.log.error({ err }, 'stored-event listener failed')
      }
    }
  }

  // ---- NodeFacade ----

  async info (): Promise<NodeInfo> {
    const r = this.require()
    const info = await assembleNodeInfo({ ...r, peerId: this.peerId, network: this.config.network, version: VERSION, trust: this.requireTrust(), monitor: this.monitor })
    const membership = this.siblings?.membership
    return {
      ...info,
      counters: { ...info.counters, ...this.communities?.counters() },
      ...(membership === undefined ? {} : { community: { id: membership.id, name: membership.name, nodes: [...membership.members], ...(r.community === undefined ? {} : { lease: r.community.view() }) } }),
      ...(r.hooks.url === undefined ? {} : { hooksUrl: r.hooks.url }),
      sources: r.sources.list().map(v => ({ name: v.name, kind: v.kind, origin: v.origin, status: v.status, ...v.counts }))
    }
  }

  /**
   * Switch the trust mode at run time (not persisted: the config file's mode applies again at
   * the next start). Refusals the old mode made are forgotten and fetched again at once.
   */
  setTrustMode (mode: TrustMode): void {
    this.requireTrust().setMode(mode)
    this.policyChanged([])
  }

  /** The trust policy changed: sync forgets the refusals it no longer stands behind and fetches them again. */
  private policyChanged (origins: string[]): void {
    this.running?.sync.policyChanged(origins)
  }

  async metrics (): Promise<MetricsScrape> {
    return await this.nodeMetrics.scrape()
  }

  async publish (items: PublishItem[]): Promise<PublishReceipt[]> {
    if (this.status !== 'started') throw new NotStartedError('node')
    return await this.require().publisher.publish(items)
  }

  async importRecords (records: Uint8Array[]): Promise<ImportResult> {
    return await this.require().receiver.importRecords(records)
  }

  async openStream (options: StreamOptions): Promise<AsyncGenerator<string, void, undefined>> {
    const { store } = this.require()
    return await openNodeStream({ store, subscriptions: this.subscriptions, trust: this.requireTrust(), onStored: listener => this.onStored(listener), flagRevoked: stored => this.flagRevoked(stored) }, options)
  }

  /** a fetched-for-trace record too (`?resolve=true` brought it): held, though no subscription sees it */
  async getEvent (digest: string): Promise<StoredEvent | undefined> {
    const { store, fetched } = this.require()
    return await store.get(digest) ?? await fetched.get(digest)
  }

  async queryEvents (query: EventQuery): Promise<EventPage> {
    const page = await this.require().store.query(query)
    return { ...page, events: page.events.map(stored => this.flagRevoked(stored)) }
  }

  /** A record whose signer its community revoked after it arrived: kept, and flagged in every view (README: Revocation). */
  private flagRevoked (stored: StoredEvent): StoredEvent {
    const since = this.communities?.directory.revokedSince(stored.event.origin)
    return since === undefined ? stored : { ...stored, signerRevoked: { since } }
  }

  async traceChain (chainId: string, options: ResolveOption = {}): Promise<TraceGraph> {
    return await this.traceService().chain(chainId, options)
  }

  async traceEvent (digest: string, options: TraceOptions & ResolveOption): Promise<TraceGraph | undefined> {
    return await this.traceService().trace(digest, options)
  }

  async artifact (purl: string, options: ResolveOption = {}): Promise<ArtifactView> {
    return await this.traceService().artifact(purl, options)
  }

  /** stateless over the stores, so one per call; trust names are read live */
  private traceService (): TraceService {
    const { store, fetched, fetch } = this.require()
    return new TraceService({
      store,
      fetched,
      fetch: async (refs, options) => await fetch.fetch(refs, options),
      communityOf: origin => this.trust?.nameOf(origin)
    }, {
      maxRefs: this.config.trace.resolveMaxReferences,
      maxRounds: this.config.trace.resolveMaxRounds,
      timeoutMs: this.config.trace.resolveTimeoutMs
    })
  }

  onStored (listener: (stored: StoredEvent) => void): () => void {
    this.storedListeners.add(listener)
    return () => { this.storedListeners.delete(listener) }
  }

  trustMode (): TrustMode {
    return this.requireTrust().mode
  }

  listTrust (): TrustEntry[] {
    return this.requireTrust().list()
  }

  async addTrust (input: Omit<TrustEntry, 'classes'> & { classes?: string[] }): Promise<TrustEntry> {
    const entry = this.requireTrust().add(input)
    await this.require().store.section<TrustEntry>('trust').put(trustKeyOf(entry), entry)
    if (entry.community !== undefined) this.communities?.trustAdded()
    // a community entry widens trust for the nodes its manifest lists: their refusals carry another fingerprint now
    this.policyChanged(entry.peerId === undefined ? [] : [entry.peerId])
    return entry
  }

  async removeTrust (peerIdOrName: string): Promise<boolean> {
    const trust = this.requireTrust()
    const entry = trust.get(peerIdOrName)
    if (entry === undefined) return false
    trust.remove(trustKeyOf(entry))
    await this.require().store.section<TrustEntry>('trust').del(trustKeyOf(entry))
    if (entry.community !== undefined) await this.communities?.trustRemoved()
    // its refusals were made under the entry: forgotten, so they are judged again
    this.require().refusals.reconcile()
    return true
  }

  /**
   * A community's signed chain from the operator (`cdgossip community publish`): kept when a
   * trust entry names one of its root keys or it lists this node; stale and invalid ones throw.
   */
  async publishCommunityChain (chain: unknown): Promise<CommunityPublishResult> {
    this.require()
    if (this.communities === undefined) throw new NotStartedError('node')
    const outcome = await this.communities.offer(chain, 'api')
    if ('error' in outcome) throw outcome.error
    if (outcome.status === 'unrequested') {
      throw new InvalidRequestError(`community ${outcome.id} is not held here: no trust entry names one of its root keys and it does not list this node (cdgossip trust add --community ROOTKEY first)`, { id: outcome.id })
    }
    return { id: outcome.id, version: outcome.version, status: outcome.status }
  }

  listCommunities (): CommunityView[] {
    this.require()
    return this.communities?.directory.list() ?? []
  }

  listSubscriptions (): Subscription[] {
    return this.subscriptions.list()
  }

  getSubscription (id: string): Subscription | undefined {
    return this.subscriptions.get(id)
  }

  async addSubscription (input: SubscriptionInput): Promise<Subscription> {
    const r = this.require()
    const sub = this.subscriptions.add(input, { origin: 'api' })
    await r.store.section<Subscription>('subscriptions').put(sub.id, sub)
    // history wanted from sequence 1: forget floors that `now` subscriptions had fixed
    if (sub.start.kind === 'beginning') await r.floors.reset(sub.classes)
    // its history now, not at the next periodic round (sync asks for every joined class)
    r.sync.requestRound()
    return sub
  }

  async removeSubscription (id: string): Promise<boolean> {
    const r = this.require()
    const removed = this.subscriptions.remove(id, { origin: 'api' })
    if (removed) await r.store.section<Subscription>('subscriptions').del(id)
    return removed
  }

  async listDeadLetters (subscriptionId: string): Promise<DeadLetter[]> {
    return await this.require().delivery.listDeadLetters(subscriptionId)
  }

  async redriveDeadLetters (subscriptionId: string, digests?: string[]): Promise<number> {
    return await this.require().delivery.redrive(subscriptionId, digests)
  }

  async discardDeadLetters (subscriptionId: string, digests?: string[]): Promise<number> {
    return await this.require().delivery.discardDeadLetters(subscriptionId, digests)
  }

  /** GET /v1/config: the configuration as loaded (webhook secrets hidden) and the live trust and subscriptions */
  configuration (): NodeConfiguration {
    this.require()
    return { config: maskConfigSecrets(this.config), trust: { mode: this.trustMode(), entries: this.listTrust() }, subscriptions: this.listSubscriptions() }
  }

  listSources (): SourceView[] {
    return this.require().sources.list()
  }

  async addSource (input: SourceInput): Promise<SourceView> {
    return await this.require().sources.add(input)
  }

  async removeSource (name: string): Promise<boolean> {
    return await this.require().sources.remove(name)
  }

  async testSource (name: string, input: SourceTestInput): Promise<SourceTestResult> {
    return await this.require().sources.test(name, input)
  }

  peers (): PeerInfo[] {
    const trust = this.requireTrust()
    return this.require().p2p.peers().map(p => ({ ...p, name: trust.nameOf(p.peerId) }))
  }
}

/** Build a node from a validated configuration (see config.ts); call start() to run it. */
export async function createNode (config: Readonly<NodeConfig>, options: { log?: Logger } & NodeOverrides = {}): Promise<CdgossipNode> {
  return new CdgossipNode(config, options)
}
