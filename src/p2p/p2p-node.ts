import { randomUUID } from 'node:crypto'
import { GossipSub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { KEEP_ALIVE } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pInit } from 'libp2p'
import { InvalidRequestError } from '../errors.js'
import { isValidNetworkName } from '../events/index.js'
import { GossipCounterSet } from './counters.js'
import { gatheringWrites } from './gathered-writes.js'
import { NotStartedError, P2PConfigError, RecordTooLargeError } from './errors.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_IP_COLOCATION_WEIGHT, MAX_RECORD_BYTES, TOPIC_SCORE_PARAMS, gossipsubOptions } from './gossip-options.js'
import { TopicAllowList, topicForClass } from './topic-allow-list.js'
import { createTopicValidator } from './topic-validator.js'
import type { GossipCounters, P2PComponents, PeerInfo } from './types.js'
import type { EventClass } from '../events/types.js'
import type { Identify } from '@libp2p/identify'
import type { AbortOptions, Libp2p, PeerId, PeerInfo as Libp2pPeerInfo, PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'

/** @default ['/ip4/0.0.0.0/tcp/4001'] for TCP; a fresh `/memory/<uuid>` for the memory transport */
export const DEFAULT_LISTEN: readonly string[] = ['/ip4/0.0.0.0/tcp/4001']
/**
 * Inbound connections per second accepted from one host (libp2p: 5). Every node of a local
 * test or demo is the same host 127.0.0.1, and 15 nodes dialling one hub at once lost 10 dials
 * at the default (P2P-NOTES); a federation restarting behind one NAT looks the same.
 * @default 64
 */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 64
/** Connections mid-handshake at once (libp2p: 10); raised with the threshold for the same reason. */
export const MAX_INCOMING_PENDING_CONNECTIONS = 64
/**
 * How often the watchdog looks for peers gossipsub silently dropped (an oversize frame ends the
 * gossipsub stream but not the connection, P2P-NOTES) and redials bootstrap peers that are gone.
 * A peer is hung up when it is missing from gossipsub on two sweeps in a row.
 * @default 10_000
 */
export const DEFAULT_WATCHDOG_INTERVAL_MS = 10_000
/** Each dial the service starts itself (watchdog redial, mDNS, dial()) gives up after this. */
export const DIAL_TIMEOUT_MS = 10_000
const BOOTSTRAP_TAG = `${KEEP_ALIVE}-cdgossip-bootstrap`
const BOOTSTRAP_TAG_VALUE = 50
/** multiaddr code of `/p2p/<id>`, which the peer store keeps apart from addresses */
const PROTOCOL_P2P = 421

export interface P2PInit {
  /** the federation name; topics are `cdgossip/<network>/<eventClass>` */
  network: string
  /** the community key; its peer ID is the node's identity and the records' `keyid` */
  privateKey: PrivateKey
  /** @default DEFAULT_LISTEN */
  listen?: string[]
  /** multiaddrs with `/p2p/<peerId>`; dialled at start and kept connected @default [] */
  bootstrap?: string[]
  /** discover peers on the LAN and dial them @default false */
  mdns?: boolean
  /** `memory` connects nodes in this process only (tests, benchmarks) @default 'tcp' */
  transport?: 'tcp' | 'memory'
  /** @default DEFAULT_HEARTBEAT_INTERVAL_MS */
  heartbeatIntervalMs?: number
  /** P6 weight for non-loopback IPs, ≤ 0 @default DEFAULT_IP_COLOCATION_WEIGHT */
  ipColocationWeight?: number
  /** @default DEFAULT_INBOUND_CONNECTION_THRESHOLD */
  inboundConnectionThreshold?: number
  /**
   * Classes joined on top of setClasses(), to forward other communities' records; whether a
   * record is also stored is the receive path's call ('relayed' when not) @default []
   */
  relayClasses?: EventClass[]
  /** @default DEFAULT_WATCHDOG_INTERVAL_MS */
  watchdogIntervalMs?: number
}

export interface P2PServiceComponents extends P2PComponents {
  log?: Logger
  /**
   * libp2p's metrics implementation (e.g. @libp2p/prometheus-metrics), asked for once per libp2p
   * node, i.e. on every start: libp2p registers its metrics when a node is built, so a restarted
   * service needs a fresh one. None by default.
   */
  libp2pMetrics?: () => NonNullable<Libp2pInit['metrics']>
}

export type P2PServices = { identify: Identify, ping: Ping, pubsub: GossipSub }
export type P2PLibp2p = Libp2p<P2PServices>
export type P2PStatus = 'stopped' | 'starting' | 'started' | 'stopping'

/** Everything that exists only while running; dropping it on stop leaves nothing behind. */
interface Running {
  libp2p: P2PLibp2p
  pubsub: GossipSub
  allowList: TopicAllowList
  controller: AbortController
  watchdog: ReturnType<typeof setInterval>
  /** peers missing from gossipsub on the previous sweep */
  suspects: Set<string>
  /** a sweep awaits the peer store and hang-ups; the next tick skips while one runs */
  sweeping: boolean
  detach: () => void
}

type State =
  | { code: 'stopped' }
  | { code: 'starting' }
  | { code: 'started', running: Running }
  | { code: 'stopping' }

/**
 * The libp2p node and its gossip: one topic per event class, a validator that runs the whole
 * receive path before anything is forwarded, and the connection upkeep gossipsub 14 leaves to
 * the application. Each start() builds a fresh libp2p node (nothing is persisted but the key the
 * caller holds); `libp2p` is valid only while started.
 */
export class P2PService {
  readonly peerId: string
  readonly network: string

  private readonly components: P2PServiceComponents
  private readonly log: Logger | undefined
  private readonly privateKey: PrivateKey
  private readonly transport: 'tcp' | 'memory'
  private readonly listen: string[]
  private readonly bootstrapAddrs: Multiaddr[]
  private readonly bootstrapPeers: Map<string, Multiaddr[]>
  private readonly mdns: boolean
  private readonly heartbeatIntervalMs: number
  private readonly ipColocationWeight: number
  private readonly inboundConnectionThreshold: number
  private readonly watchdogIntervalMs: number
  private readonly relayClasses: EventClass[]
  private readonly counterSet = new GossipCounterSet()
  private readonly peerConnectedListeners = new Set<(peerId: string) => void>()
  private classes = new Set<EventClass>()
  private state: State = { code: 'stopped' }
  /** start() and stop() run one at a time, in call order */
  private lifecycle: Promise<void> = Promise.resolve()

  constructor (components: P2PServiceComponents, init: P2PInit) {
    this.components = components
    this.log = components.log
    this.network = init.network
    if (!isValidNetworkName(init.network)) {
      throw new P2PConfigError('network', 'must be 1–63 of [a-z0-9-], starting with a letter or digit')
    }
    this.privateKey = init.privateKey
    this.peerId = peerIdFromPrivateKey(init.privateKey).toString()
    this.transport = init.transport ?? 'tcp'
    this.listen = [...(init.listen ?? (this.transport === 'memory' ? [`/memory/${randomUUID()}`] : DEFAULT_LISTEN))]
    for (const addr of this.listen) parseMultiaddr('listen', addr)
    this.bootstrapAddrs = (init.bootstrap ?? []).map((addr) => parseMultiaddr('bootstrap', addr))
    this.bootstrapPeers = new Map()
    for (const ma of this.bootstrapAddrs) {
      const id = ma.getPeerId()
      if (id === null) throw new P2PConfigError('bootstrap', `${ma.toString()} has no /p2p/<peerId>`)
      if (id === this.peerId) continue
      this.bootstrapPeers.set(id, [...(this.bootstrapPeers.get(id) ?? []), ma])
    }
    this.mdns = init.mdns ?? false
    this.heartbeatIntervalMs = positive('heartbeatIntervalMs', init.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS)
    this.ipColocationWeight = init.ipColocationWeight ?? DEFAULT_IP_COLOCATION_WEIGHT
    if (!(this.ipColocationWeight <= 0)) throw new P2PConfigError('ipColocationWeight', 'must be ≤ 0')
    this.inboundConnectionThreshold = positive('inboundConnectionThreshold', init.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD)
    this.watchdogIntervalMs = positive('watchdogIntervalMs', init.watchdogIntervalMs ?? DEFAULT_WATCHDOG_INTERVAL_MS)
    this.relayClasses = [...(init.relayClasses ?? [])]
    for (const eventClass of this.relayClasses) {
      try {
        topicForClass(this.network, eventClass)
      } catch (err) {
        throw new P2PConfigError('relayClasses', `${JSON.stringify(eventClass)} cannot name a topic`, { cause: err })
      }
    }
  }

  get status (): P2PStatus {
    return this.state.code
  }

  /** The running libp2p node, for node.ts to hand to the sync service. A new one on every start. */
  get libp2p (): P2PLibp2p {
    return this.running().libp2p
  }

  async start (): Promise<void> {
    await this.serialize(async () => { await this.doStart() })
  }

  async stop (): Promise<void> {
    await this.serialize(async () => { await this.doStop() })
  }

  /**
   * Join exactly these classes' topics (plus relayClasses) and leave every other. The node's own
   * publishing classes belong here too, so their topics have a mesh; publish() itself never
   * joins. Validates every class before changing anything. Before start it only records the set.
   */
  setClasses (eventClasses: EventClass[]): void {
    for (const eventClass of eventClasses) topicForClass(this.network, eventClass)
    this.classes = new Set(eventClasses)
    if (this.state.code === 'started') this.applyTopics(this.state.running)
  }

  /**
   * Gossip one record (already stored by the caller) on its class's topic. Best effort: with no
   * subscribed peer it resolves `{ recipients: 0 }` (sync repairs later). A topic we have not
   * joined is published through gossipsub's fanout, which with floodPublish still reaches every
   * known subscriber, and without receiving that class's traffic.
   */
  async publish (eventClass: EventClass, bytes: Uint8Array): Promise<{ recipients: number }> {
    const { pubsub } = this.running()
    if (bytes.byteLength > MAX_RECORD_BYTES) throw new RecordTooLargeError(bytes.byteLength, MAX_RECORD_BYTES)
    const topic = topicForClass(this.network, eventClass)
    let recipients: number
    try {
      recipients = (await pubsub.publish(topic, bytes)).recipients.length
    } catch (err) {
      // gossipsub 14 throws a plain Error with this message, not a typed error
      if (!(err instanceof Error && err.message === 'PublishError.NoPeersSubscribedToTopic')) throw err
      recipients = 0
    }
    this.counterSet.countPublished()
    return { recipients }
  }

  /** Dial a peer by multiaddr (with /p2p/<id> or not); resolves its peer ID. */
  async dial (address: string, options: AbortOptions = {}): Promise<string> {
    const { libp2p, controller } = this.running()
    let ma: Multiaddr
    try {
      ma = multiaddr(address)
    } catch {
      throw new InvalidRequestError('not a multiaddr', { address })
    }
    const connection = await libp2p.dial(ma, { signal: dialSignal(controller.signal, options.signal) })
    return connection.remotePeer.toString()
  }

  /** Called with the remote peer ID for every new peer connection; returns the unsubscribe. */
  onPeerConnected (listener: (peerId: string) => void): () => void {
    this.peerConnectedListeners.add(listener)
    return () => { this.peerConnectedListeners.delete(listener) }
  }

  multiaddrs (): string[] {
    if (this.state.code !== 'started') return []
    return this.state.running.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  /** Connected peers, with the topics they announced that we joined too. */
  peers (): PeerInfo[] {
    if (this.state.code !== 'started') return []
    const { libp2p, pubsub } = this.state.running
    const ours = pubsub.getTopics()
    const subscribers = new Map(ours.map((topic) => [topic, new Set(pubsub.getSubscribers(topic).map(String))]))
    return libp2p.getPeers().map((peer) => {
      const id = peer.toString()
      return {
        peerId: id,
        addresses: libp2p.getConnections(peer).map((connection) => connection.remoteAddr.toString()),
        topics: ours.filter((topic) => subscribers.get(topic)?.has(id) === true)
      }
    })
  }

  /** The topics joined now (empty when stopped). */
  topics (): string[] {
    if (this.state.code !== 'started') return []
    return this.state.running.pubsub.getTopics()
  }

  /** Peer IDs in our mesh for this class's topic. */
  meshPeers (eventClass: EventClass): string[] {
    if (this.state.code !== 'started') return []
    return this.state.running.pubsub.getMeshPeers(topicForClass(this.network, eventClass))
  }

  /** Peer IDs that announced this class's topic. */
  subscribers (eventClass: EventClass): string[] {
    if (this.state.code !== 'started') return []
    return this.state.running.pubsub.getSubscribers(topicForClass(this.network, eventClass)).map(String)
  }

  /** Totals since construction; they survive restarts. */
  counters (): GossipCounters {
    return this.counterSet.snapshot()
  }

  private running (): Running {
    if (this.state.code !== 'started') throw new NotStartedError('p2p')
    return this.state.running
  }

  private async serialize (step: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(step)
    this.lifecycle = next.catch(() => {})
    await next
  }

  private async doStart (): Promise<void> {
    if (this.state.code === 'started') return
    this.state = { code: 'starting' }
    let libp2p: P2PLibp2p | undefined
    const controller = new AbortController()
    try {
      libp2p = await this.createNode()
      const pubsub = libp2p.services.pubsub
      const allowList = new TopicAllowList(this.network)
      installAllowList(pubsub, allowList)
      const detach = this.attach(libp2p, controller.signal)
      await libp2p.start()
      const running: Running = {
        libp2p,
        pubsub,
        allowList,
        controller,
        suspects: new Set(),
        sweeping: false,
        detach,
        watchdog: setInterval(() => {
          this.sweep(running).catch((err: unknown) => { this.log?.debug({ err }, 'watchdog sweep failed') })
        }, this.watchdogIntervalMs)
      }
      this.state = { code: 'started', running }
      this.applyTopics(running)
      await this.keepBootstrapPeers(running)
    } catch (err) {
      if (this.state.code === 'started') {
        await this.doStop()
      } else {
        controller.abort()
        try {
          await libp2p?.stop()
        } catch {
          // the start failure is the error worth reporting
        }
        this.state = { code: 'stopped' }
      }
      throw err
    }
  }

  private async doStop (): Promise<void> {
    if (this.state.code !== 'started') return
    const { running } = this.state
    this.state = { code: 'stopping' }
    clearInterval(running.watchdog)
    running.controller.abort()
    running.detach()
    try {
      await running.libp2p.stop()
    } finally {
      this.state = { code: 'stopped' }
    }
  }

  private async createNode (): Promise<P2PLibp2p> {
    const gossipOptions = gossipsubOptions({
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      ipColocationWeight: this.ipColocationWeight
    })
    const peerDiscovery = []
    if (this.bootstrapAddrs.length > 0) {
      // start() tags and dials bootstrap peers itself; the module adds their discovery events,
      // and a delayed extra dial from it would only blur which mechanism reconnects what
      peerDiscovery.push(bootstrap({ list: this.bootstrapAddrs.map(String), timeout: 0 }))
    }
    if (this.mdns) peerDiscovery.push(mdns())
    return await createLibp2p<P2PServices>({
      start: false,
      privateKey: this.privateKey,
      addresses: { listen: this.listen },
      transports: this.transport === 'memory' ? [memory()] : [tcp()],
      connectionEncrypters: [gatheringWrites(noise())],
      streamMuxers: [yamux()],
      peerDiscovery,
      ...(this.components.libp2pMetrics === undefined ? {} : { metrics: this.components.libp2pMetrics() }),
      connectionManager: {
        inboundConnectionThreshold: this.inboundConnectionThreshold,
        maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS
      },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: (components) => new GossipSub(components, gossipOptions)
      }
    })
  }

  /** Libp2p event wiring; returns the detach. */
  private attach (libp2p: P2PLibp2p, signal: AbortSignal): () => void {
    const onConnect = (evt: CustomEvent<PeerId>): void => {
      const id = evt.detail.toString()
      for (const listener of this.peerConnectedListeners) {
        try {
          listener(id)
        } catch (err) {
          this.log?.warn({ err }, 'peer-connected listener threw')
        }
      }
    }
    // libp2p drops the keep-alive tag after its reconnect retries; a bootstrap peer stays one
    const onReconnectFailure = (evt: CustomEvent<PeerId>): void => {
      if (!this.bootstrapPeers.has(evt.detail.toString()) || signal.aborted) return
      libp2p.peerStore.merge(evt.detail, { tags: { [BOOTSTRAP_TAG]: { value: BOOTSTRAP_TAG_VALUE } } })
        .catch((err: unknown) => { this.log?.debug({ err }, 'could not re-tag bootstrap peer') })
    }
    // 2.x has no autodialer: discovered peers only land in the peer store (P2P-NOTES)
    const onDiscovery = (evt: CustomEvent<Libp2pPeerInfo>): void => {
      if (signal.aborted || libp2p.getConnections(evt.detail.id).length > 0) return
      libp2p.dial(evt.detail.id, { signal: dialSignal(signal) })
        .catch((err: unknown) => { this.log?.debug({ err, peer: evt.detail.id.toString() }, 'could not dial discovered peer') })
    }
    libp2p.addEventListener('peer:connect', onConnect)
    libp2p.addEventListener('peer:reconnect-failure', onReconnectFailure)
    if (this.mdns) libp2p.addEventListener('peer:discovery', onDiscovery)
    return () => {
      libp2p.removeEventListener('peer:connect', onConnect)
      libp2p.removeEventListener('peer:reconnect-failure', onReconnectFailure)
      libp2p.removeEventListener('peer:discovery', onDiscovery)
    }
  }

  /** KEEP_ALIVE-tag bootstrap peers so libp2p redials them whenever they disconnect, and dial them now. */
  private async keepBootstrapPeers (running: Running): Promise<void> {
    const { libp2p } = running
    await Promise.all([...this.bootstrapPeers].map(async ([id, addrs]) => {
      await libp2p.peerStore.merge(peerIdFromString(id), {
        multiaddrs: addrs.map((ma) => ma.decapsulateCode(PROTOCOL_P2P)),
        tags: { [BOOTSTRAP_TAG]: { value: BOOTSTRAP_TAG_VALUE } }
      })
    }))
    this.redialBootstrapPeers(running)
  }

  private redialBootstrapPeers (running: Running): void {
    const { libp2p, controller } = running
    for (const id of this.bootstrapPeers.keys()) {
      const peer = peerIdFromString(id)
      if (libp2p.getConnections(peer).length > 0) continue
      libp2p.dial(peer, { signal: dialSignal(controller.signal) })
        .catch((err: unknown) => { this.log?.debug({ err, peer: id }, 'bootstrap peer unreachable') })
    }
  }

  private applyTopics (running: Running): void {
    const { pubsub, allowList } = running
    const wanted = new Map<string, EventClass>()
    for (const eventClass of [...this.classes, ...this.relayClasses]) {
      wanted.set(topicForClass(this.network, eventClass), eventClass)
    }
    for (const topic of pubsub.getTopics()) {
      if (wanted.has(topic)) continue
      pubsub.unsubscribe(topic)
      pubsub.topicValidators.delete(topic)
    }
    const joined = new Set(pubsub.getTopics())
    for (const [topic, eventClass] of wanted) {
      if (joined.has(topic)) continue
      allowList.addOwn(topic)
      // P4 only punishes Rejects on topics with params (P2P-NOTES); kept after leaving so
      // counters already earned keep decaying instead of vanishing
      pubsub.score.params.topics[topic] ??= { ...TOPIC_SCORE_PARAMS }
      // the validator is in place before the subscription is announced
      pubsub.topicValidators.set(topic, createTopicValidator({
        receiveRecord: this.components.receiveRecord.bind(this.components),
        counters: this.counterSet,
        log: this.log
      }, { eventClass }))
      pubsub.subscribe(topic)
    }
  }

  private async sweep (running: Running): Promise<void> {
    const { libp2p, pubsub, controller } = running
    if (controller.signal.aborted || running.sweeping) return
    running.sweeping = true
    try {
      const gossiping = new Set(pubsub.getPeers().map(String))
      const absent = new Set<string>()
      for (const peer of libp2p.getPeers()) {
        const id = peer.toString()
        if (gossiping.has(id) || !(await speaksGossipsub(running, peer))) continue
        absent.add(id)
        // one sweep of grace: identify and the gossipsub streams take a moment after connecting
        if (!running.suspects.has(id) || controller.signal.aborted) continue
        this.log?.info({ peer: id }, 'connected peer missing from gossipsub; hanging up so it can reconnect cleanly')
        await libp2p.hangUp(peer, { signal: controller.signal }).catch((err: unknown) => {
          this.log?.debug({ err, peer: id }, 'watchdog hang-up failed')
        })
      }
      running.suspects = absent
      if (!controller.signal.aborted) this.redialBootstrapPeers(running)
    } finally {
      running.sweeping = false
    }
  }
}


async function speaksGossipsub ({ libp2p, pubsub }: Running, peer: PeerId): Promise<boolean> {
  try {
    const { protocols } = await libp2p.peerStore.get(peer)
    return protocols.some((protocol) => pubsub.multicodecs.includes(protocol))
  } catch {
    return false
  }
}

/**
 * gossipsub 14 copies `allowedTopics` into a private Set, so a prefix rule (this network's
 * topics, bounded) can only be installed by replacing that field. It is checked for with
 * `has` only. If a release renames it, start fails here instead of filtering nothing.
 */
function installAllowList (pubsub: GossipSub, allowList: TopicAllowList): void {
  const slot = pubsub as unknown as { allowedTopics?: { has: (topic: string) => boolean } | null }
  if (!(slot.allowedTopics instanceof Set)) {
    throw new Error('gossipsub internals changed: no allowedTopics set to replace')
  }
  slot.allowedTopics = allowList
}

function dialSignal (...signals: Array<AbortSignal | undefined>): AbortSignal {
  return AbortSignal.any([...signals.filter((s): s is AbortSignal => s !== undefined), AbortSignal.timeout(DIAL_TIMEOUT_MS)])
}

function parseMultiaddr (field: string, address: string): Multiaddr {
  try {
    return multiaddr(address)
  } catch (err) {
    throw new P2PConfigError(field, `${JSON.stringify(address)} is not a multiaddr`, { cause: err })
  }
}

function positive (field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new P2PConfigError(field, 'must be a positive number')
  return value
}
