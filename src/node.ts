import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { NotStartedError } from './errors.js'
import { maskConfigSecrets, type NodeConfig } from './config.js'
import { dataDirPaths, readApiToken, readPeersFile, writePeersFile } from './data-dir.js'
import { silentLogger } from './logger.js'
import { STANDARD_EVENT_CLASSES, expandClassPattern } from './events/index.js'
import type { EventClass } from './events/types.js'
import { loadOrCreateIdentity } from './signing/index.js'
import { EventStore, eventQueryPredicate } from './store/index.js'
import type { EventPage, EventQuery, StoredEvent } from './events/records.js'
import { TrustPolicy } from './trust/index.js'
import type { TrustEntry, TrustMode } from './trust/types.js'
import { SubscriptionRegistry, addConfigSubscriptions, subscriptionMatches, subscriptionsWant, toMatchable } from './subscriptions/index.js'
import type { Subscription } from './subscriptions/types.js'
import { P2PService, type P2PInit } from './p2p/index.js'
import { RefusalLedger, SyncFloors, SyncService } from './p2p/sync/index.js'
import type { PeerInfo, ReceiveContext, ReceiveOutcome } from './p2p/types.js'
import { DeliveryService, openEventStream } from './delivery/index.js'
import { NotFoundError, buildApi } from './api/index.js'
import type { DeadLetter, ImportResult, MetricsScrape, NodeConfiguration, NodeFacade, NodeInfo, PublishItem, PublishReceipt, StreamOptions, SubscriptionInput } from './contracts/node-facade.js'
import { GapWatcher, PublishPipeline, ReceiveMonitor, ReceivePipeline, RelayBudget } from './pipeline/index.js'
import { NodeMetrics } from './metrics/index.js'
import { stopInOrder } from './lifecycle.js'
import { TraceService } from './trace/index.js'
import type { ArtifactView, TraceGraph, TraceOptions } from './contracts/trace.js'

/** The package version; the module runs from src/ (tests) or dist/src/ (the CLI). */
function readVersion (): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'cdgossip' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // not at this depth: try the next
    }
  }
  return '0.0.0'
}

export const VERSION: string = readVersion()

/** Pending events per SSE client before it is dropped (it resumes with Last-Event-ID): bounds memory per slow client. */
export const STREAM_MAX_BUFFERED = 1000
/** SSE comment heartbeat: keeps idle connections through proxies that close after 30-60 s. */
export const STREAM_HEARTBEAT_MS = 15_000

/** Overrides for tests, demos and benchmarks; data only. */
export interface NodeOverrides {
  /** `memory` for large in-process meshes @default 'tcp' */
  transport?: P2PInit['transport']
  /** bound on every log line to tell nodes apart in one process */
  nodeName?: string
}

export type NodeStatus = 'stopped' | 'starting' | 'started' | 'stopping'

interface Running {
  store: EventStore
  p2p: P2PService
  sync: SyncService
  delivery: DeliveryService
  api: FastifyInstance
  publisher: PublishPipeline
  gaps: GapWatcher
  receiver: ReceivePipeline
  /** sequences refused by this node's trust policy: known, not missing */
  refusals: RefusalLedger
  floors: SyncFloors
  apiUrl: string
  detach: Array<() => void>
}

/**
 * The composition root: the only module that imports every folder. It builds the pieces in
 * dependency order (store, trust, subscriptions, p2p + sync, delivery, api), starts them in that
 * order and stops them in reverse, and is the NodeFacade the REST API talks to.
 */
export class CdgossipNode implements NodeFacade {
  readonly config: Readonly<NodeConfig>
  readonly log: Logger
  private readonly overrides: NodeOverrides
  private status: NodeStatus = 'stopped'
  private running: Running | undefined
  private peerIdValue: string | undefined
  private trust: TrustPolicy | undefined
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
    this.overrides = { transport: options.transport, nodeName: options.nodeName }
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

    const store = new EventStore({ log: log.child({ component: 'store' }) }, { path: paths.store })
    await store.start()
    started.push(store)

    const trust = new TrustPolicy({ selfPeerId: identity.peerId }, { mode: config.trust.mode, entries: config.trust.communities })
    for await (const [, entry] of store.section<TrustEntry>('trust').entries()) trust.add(entry)
    this.trust = trust

    this.subscriptions = this.newRegistry()
    await addConfigSubscriptions(this.subscriptions, config.subscriptions, store.section<string>('config-subscription-starts'))
    for await (const [, sub] of store.section<Subscription>('subscriptions').entries()) this.subscriptions.restore(sub)

    const floors = new SyncFloors({ section: store.section<number>('sync-floors'), log: log.child({ component: 'sync' }) })
    // refusals made under another policy than today's (config edited while down) are forgotten here
    const refusals = new RefusalLedger({
      section: store.section('sync-refusals'),
      policy: origin => this.trust?.fingerprint(origin) ?? '',
      log: log.child({ component: 'sync' })
    })
    await refusals.load()
    started.push({ stop: async () => { await refusals.flush() } })
    const relayClasses = new Set(config.p2p.relay.flatMap(p => expandClassPattern(p)))
    const relayBudget = new RelayBudget()
    const gaps = new GapWatcher({
      // sequences refused by policy are known, not missing
      missingSequences: async (origin, eventClass, limit) => (await store.missingSequences(origin, eventClass, limit))
        .filter(seq => !this.running?.refusals.has(origin, eventClass, seq)),
      requestGap: (origin, eventClass, from, to) => {
        this.running?.sync.requestGap(origin, eventClass, from, to).catch(err => { log.warn({ err, origin, eventClass, from, to }, 'gap repair failed; the next sync round retries') })
      }
    })
    started.push({ stop: async () => { gaps.stop() } })
    const receiver = new ReceivePipeline({
      store,
      trust: check => trust.check(check),
      wanted: (event, eventTime) => subscriptionsWant(this.subscriptions, this.peerIdValue, event, eventTime),
      skipped: event => { floors.skipped(event) },
      stored: stored => { this.emitStored(stored) },
      gap: (origin, eventClass) => { gaps.report(origin, eventClass) },
      refused: refusal => {
        refusals.record(refusal)
        this.monitor.refusedSource(refusal.origin, refusal.reason, refusal.source)
      },
      forwardUntrusted: event => {
        if (!relayClasses.has(event.eventClass)) return false
        if (relayBudget.take(event.origin)) return true
        this.monitor.relayLimited(event)
        return false
      },
      observe: o => {
        this.nodeMetrics.observeEvent(o)
        this.monitor.observe(o)
        if ((o.outcome === 'stored' || o.outcome === 'duplicate') && o.origin !== undefined && o.sequence !== undefined) {
          refusals.noteHeld(o.origin, o.eventClass, o.sequence)
        }
      }
    })

    const p2p = new P2PService({
      log: log.child({ component: 'p2p' }),
      receiveRecord: async (bytes: Uint8Array, context: ReceiveContext): Promise<ReceiveOutcome> => await receiver.receive(bytes, context),
      libp2pMetrics: () => this.nodeMetrics.libp2pMetrics(),
      peerMemory: {
        load: async () => await readPeersFile(config.dataDir),
        save: async (content) => { await writePeersFile(config.dataDir, content) }
      }
    }, {
      network: config.network,
      privateKey: identity.privateKey,
      listen: [...config.p2p.listen],
      bootstrap: [...config.p2p.bootstrap],
      mdns: config.p2p.mdns,
      heartbeatIntervalMs: config.p2p.heartbeatMs,
      targetConnections: config.p2p.targetConnections,
      relayClasses: [...relayClasses],
      ...(this.overrides.transport === undefined ? {} : { transport: this.overrides.transport })
    })
    p2p.setClasses(this.joinedClasses())
    await p2p.start()
    started.push(p2p)

    const sync = new SyncService({
      log: log.child({ component: 'sync' }),
      libp2p: p2p.libp2p,
      receiveRecord: async (bytes, context) => await receiver.receive(bytes, context),
      sequenceStates: async (classes: EventClass[]) => await store.sequenceStates(classes),
      readSequenceRange: (origin, eventClass, from, to) => store.readSequenceRange(origin, eventClass, from, to),
      wantedClasses: () => this.joinedClasses(),
      // Sync fetches every pair from its first unheld sequence; which records a subscription keeps
      // is decided by event time (subscriptionsWant), and skipped history raises the floor (SyncFloors),
      // so a node that was offline still gets everything signed after its subscriptions started.
      startPoint: () => 'beginning',
      floor: async (origin, eventClass) => await floors.get(origin, eventClass),
      setFloor: async (origin, eventClass, floor) => { await floors.set(origin, eventClass, floor) },
      refusals,
      staleGap: (origin, eventClass, missing, rounds) => { this.monitor.staleGap(origin, eventClass, missing, rounds) }
    }, { intervalMs: config.sync.intervalSeconds * 1000 })
    await sync.start()
    started.push(sync)

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
      onAttempt: attempt => { this.nodeMetrics.observeDeliveryAttempt(attempt) }
    }, {})
    await delivery.start()
    started.push(delivery)
    await delivery.syncSubscriptions(this.subscriptions.list())

    const publisher = new PublishPipeline({
      store,
      signer: identity,
      gossip: (eventClass, bytes) => {
        p2p.publish(eventClass, bytes).catch(err => { log.warn({ err, eventClass }, 'gossip publish failed; sync will repair') })
      },
      stored: stored => { this.emitStored(stored) },
      observe: o => { this.nodeMetrics.observeEvent(o) }
    })

    const api = await buildApi({ node: this, log: log.child({ component: 'api' }), observeRequest: sample => { this.nodeMetrics.observeHttpRequest(sample) } }, { token, bodyLimit: config.api.bodyLimit, version: VERSION })
    const address = await api.listen({ host: config.api.host, port: config.api.port })
    started.push({ stop: async () => { await api.close() } })
    const apiUrl = address.replace('[::1]', '127.0.0.1')

    const detach = [
      this.subscriptions.onChange(change => {
        p2p.setClasses(this.joinedClasses())
        if (change.type === 'removed') void delivery.forgetSubscription(change.subscription.id)
        void delivery.syncSubscriptions(this.subscriptions.list())
      })
    ]
    this.running = { store, p2p, sync, delivery, api, publisher, gaps, receiver, refusals, floors, apiUrl, detach }
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
        { name: 'api', stop: async () => { await r.api.close() } },
        { name: 'publisher', stop: async () => { await r.publisher.drain() } },
        { name: 'delivery', stop: async () => { await r.delivery.stop() } },
        { name: 'gaps', stop: () => { r.gaps.stop() } },
        { name: 'sync', stop: async () => { await r.sync.stop() } },
        { name: 'p2p', stop: async () => { await r.p2p.stop() } },
        { name: 'refusals', stop: async () => { await r.refusals.flush() } },
        { name: 'floors', stop: async () => { await r.floors.idle() } },
        { name: 'store', stop: async () => { await r.store.stop() } }
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

  /** Topics to join: what subscriptions need (relay classes are joined by p2p itself). */
  private joinedClasses (): EventClass[] {
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
    const stats = await r.store.stats()
    const gossip = r.p2p.counters()
    const counters: Record<string, number> = { 'gossip.published': gossip.published }
    for (const [k, v] of Object.entries(gossip.received)) counters[`gossip.received.${k}`] = v
    Object.assign(counters, this.monitor.counters())
    const trust = this.requireTrust()
    const summary = r.refusals.summary()
    const pubsub = r.p2p.libp2p.services.pubsub
    const connected = new Set(r.p2p.peers().map(p => p.peerId))
    return {
      peerId: this.peerId,
      network: this.config.network,
      version: VERSION,
      apiUrl: r.apiUrl,
      listenAddresses: r.p2p.multiaddrs(),
      topics: r.p2p.topics(),
      peers: r.p2p.peers().length,
      counters,
      trustMode: this.requireTrust().mode,
      store: stats,
      sync: r.sync.state(),
      refusals: { ...summary, origins: summary.origins.map(o => withName(o, trust.nameOf(o.origin))) },
      peerStats: this.monitor.peerFigures().map(f => ({
        ...withName(f, trust.nameOf(f.peerId)),
        connected: connected.has(f.peerId),
        ...(connected.has(f.peerId) ? { gossipScore: pubsub.getScore(f.peerId) } : {})
      }))
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

  /**
   * The trust policy changed: forget the refusals it no longer stands behind and start a sync
   * round at once, so the records come back from any peer that holds them, without a restart.
   */
  private policyChanged (origins: string[]): void {
    const r = this.running
    if (r === undefined) return
    const forgotten = r.refusals.reconcile()
    if (forgotten.length > 0) this.log.info({ origins: forgotten }, 'trust policy changed: records refused before are fetched again')
    r.sync.resync([...new Set([...origins, ...forgotten])])
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
    const r = this.require()
    // a bad cursor must fail the request (400), not a stream that has already answered 200
    if (options.after !== undefined) await r.store.readAfter(options.after, 1)
    let filter: (stored: StoredEvent) => boolean
    if (options.subscription !== undefined) {
      const sub = this.subscriptions.get(options.subscription)
      if (sub === undefined) throw new NotFoundError(`no subscription ${options.subscription}`)
      const trust = this.requireTrust()
      filter = stored => subscriptionMatches(sub, toMatchable(stored), peerId => trust.nameOf(peerId))
    } else {
      filter = eventQueryPredicate(options.query)
    }
    return openEventStream({
      source: { readAfter: async (cursor, limit) => await r.store.readAfter(cursor, limit), onStored: listener => this.onStored(listener) },
      ...(options.after === undefined ? {} : { after: options.after }),
      ...(options.last === undefined ? {} : { last: { count: options.last, lastCursor: () => r.store.lastCursor() } }),
      filter,
      maxBuffered: STREAM_MAX_BUFFERED,
      heartbeatMs: STREAM_HEARTBEAT_MS,
      signal: options.signal
    })
  }

  async getEvent (digest: string): Promise<StoredEvent | undefined> {
    return await this.require().store.get(digest)
  }

  async queryEvents (query: EventQuery): Promise<EventPage> {
    return await this.require().store.query(query)
  }

  async traceChain (chainId: string): Promise<TraceGraph> {
    return await this.traceService().chain(chainId)
  }

  async traceEvent (digest: string, options: TraceOptions): Promise<TraceGraph | undefined> {
    return await this.traceService().trace(digest, options)
  }

  async artifact (purl: string): Promise<ArtifactView> {
    return await this.traceService().artifact(purl)
  }

  /** stateless over the store, so one per call; trust names are read live */
  private traceService (): TraceService {
    return new TraceService({ store: this.require().store, communityOf: origin => this.trust?.nameOf(origin) })
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
    await this.require().store.section<TrustEntry>('trust').put(entry.peerId, entry)
    this.policyChanged([entry.peerId])
    return entry
  }

  async removeTrust (peerIdOrName: string): Promise<boolean> {
    const trust = this.requireTrust()
    const entry = trust.get(peerIdOrName)
    if (entry === undefined) return false
    trust.remove(entry.peerId)
    await this.require().store.section<TrustEntry>('trust').del(entry.peerId)
    // its refusals were made under the entry: forgotten, so they are judged again
    this.require().refusals.reconcile()
    return true
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

  peers (): PeerInfo[] {
    const trust = this.requireTrust()
    return this.require().p2p.peers().map(p => ({ ...p, name: trust.nameOf(p.peerId) }))
  }
}

/** Build a node from a validated configuration (see config.ts); call start() to run it. */
export async function createNode (config: Readonly<NodeConfig>, options: { log?: Logger } & NodeOverrides = {}): Promise<CdgossipNode> {
  return new CdgossipNode(config, options)
}

function withName<T extends object> (value: T, name: string | undefined): T & { name?: string } {
  return name === undefined ? value : { ...value, name }
}
