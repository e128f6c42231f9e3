import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidRequestError } from '../errors.js'
import { ConnectionUpkeep, type UpkeepRun } from './connection-upkeep.js'
import { GossipCounterSet } from './counters.js'
import { FrameSender } from './frame-sender.js'
import { dialSignal } from './dial-guards.js'
import { applyTopics } from './gossip-topics.js'
import { type KnownPeer } from './known-peers.js'
import { createP2PLibp2p, installAllowList, installFrameWatch, p2pSettings, type P2PInit, type P2PLibp2p, type P2PServiceComponents, type P2PSettings } from './libp2p-node.js'
import { peerExchangeProtocol, servePeerExchange } from './peer-exchange.js'
import { NotStartedError, RecordTooLargeError } from './errors.js'
import { MAX_RECORD_BYTES } from './gossip-options.js'
import { TopicAllowList, topicForClass } from './topic-allow-list.js'
import { runTopicValidators } from './topic-validation.js'
import type { GossipCounters, PeerInfo } from './types.js'
import type { EventClass } from '../events/types.js'
import type { GossipSub } from '@chainsafe/libp2p-gossipsub'
import type { AbortOptions, PeerId, TopicValidatorFn } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export { DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_LISTEN, DEFAULT_TARGET_CONNECTIONS, DEFAULT_WATCHDOG_INTERVAL_MS, MAX_INCOMING_PENDING_CONNECTIONS } from './libp2p-node.js'
export type { P2PInit, P2PLibp2p, P2PServiceComponents, P2PServices, PeerMemory } from './libp2p-node.js'
export { DIAL_TIMEOUT_MS } from './dial-guards.js'

export type P2PStatus = 'stopped' | 'starting' | 'started' | 'stopping'

/** Everything that exists only while running; dropping it on stop leaves nothing behind. */
interface Running extends UpkeepRun {
  pubsub: GossipSub
  allowList: TopicAllowList
  /** topic → its validator, run by topic-validation.ts */
  validators: Map<string, TopicValidatorFn>
  stopValidating: () => void
  watchdog: ReturnType<typeof setInterval>
  detach: () => void
  unhandleExchange: () => Promise<void>
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
 * caller holds); `libp2p` is valid only while started. The parts live beside it, one job each:
 * libp2p-node.ts builds the node, connection-upkeep.ts keeps it connected (dial-guards.ts,
 * connection-warnings.ts), gossip-topics.ts joins the topics, topic-validation.ts runs their validators.
 */
export class P2PService {
  readonly peerId: string
  readonly network: string

  private readonly components: P2PServiceComponents
  private readonly settings: P2PSettings
  private readonly exchangeProtocol: string
  private readonly counterSet = new GossipCounterSet()
  private readonly upkeep: ConnectionUpkeep
  private readonly frames = new FrameSender(async (topic, message) => await this.sendMessage(topic, message))
  private classes = new Set<EventClass>()
  private readonly control = new Map<string, TopicValidatorFn>()
  private state: State = { code: 'stopped' }
  /** start() and stop() run one at a time, in call order */
  private lifecycle: Promise<void> = Promise.resolve()

  constructor (components: P2PServiceComponents, init: P2PInit) {
    this.components = components
    this.network = init.network
    this.peerId = peerIdFromPrivateKey(init.privateKey).toString()
    this.settings = p2pSettings(init, this.peerId)
    this.exchangeProtocol = peerExchangeProtocol(this.network)
    this.upkeep = new ConnectionUpkeep({
      ...(components.log === undefined ? {} : { log: components.log }),
      ...(components.peerMemory === undefined ? {} : { peerMemory: components.peerMemory })
    }, this.settings, this.exchangeProtocol)
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
   * Gossip one record (already stored by the caller) on its class's topic, alone or in a frame with
   * the topic's other records of its turn, or, under load, of its flush (FrameSender). Best effort: with no
   * subscribed peer it resolves `{ recipients: 0 }` (sync repairs later). A topic we have not
   * joined is published through gossipsub's fanout, which with floodPublish still reaches every
   * known subscriber, and without receiving that class's traffic.
   */
  async publish (eventClass: EventClass, bytes: Uint8Array): Promise<{ recipients: number }> {
    const { pubsub } = this.running()
    if (bytes.byteLength > MAX_RECORD_BYTES) throw new RecordTooLargeError(bytes.byteLength, MAX_RECORD_BYTES)
    const topic = topicForClass(this.network, eventClass)
    // Consumers subscribe to the classes they care about, so most classes of a publisher have no
    // subscriber among its peers. gossipsub would still frame, hash and cache the message before
    // finding nobody to send it to (and throw for that); with no subscriber there is no message.
    const recipients = pubsub.getSubscribers(topic).length === 0 ? 0 : await this.frames.send(topic, bytes)
    this.counterSet.countPublished()
    return { recipients }
  }

  /** One gossip message (a record or a frame of them): records published in a burst share messages. */
  private async sendMessage (topic: string, message: Uint8Array): Promise<number> {
    const { pubsub } = this.running()
    try {
      return (await pubsub.publish(topic, message)).recipients.length
    } catch (err) {
      // gossipsub 14 throws a plain Error with this message, not a typed error
      if (!(err instanceof Error && err.message === 'PublishError.NoPeersSubscribedToTopic')) throw err
      return 0
    }
  }

  /**
   * Join a control topic (not an event class: community manifests) with its validator, now and
   * after every topic change; setClasses never leaves it.
   */
  joinControlTopic (topic: string, validator: TopicValidatorFn): void {
    this.control.set(topic, validator)
    if (this.state.code === 'started') this.applyTopics(this.state.running)
  }

  /** Gossip on a joined control topic; best effort like publish() (no subscribed peer: 0 recipients). */
  async publishControl (topic: string, bytes: Uint8Array): Promise<{ recipients: number }> {
    const { pubsub } = this.running()
    if (!this.control.has(topic)) throw new Error(`control topic ${topic} not joined`)
    if (bytes.byteLength > MAX_RECORD_BYTES) throw new RecordTooLargeError(bytes.byteLength, MAX_RECORD_BYTES)
    try {
      return { recipients: (await pubsub.publish(topic, bytes)).recipients.length }
    } catch (err) {
      if (!(err instanceof Error && err.message === 'PublishError.NoPeersSubscribedToTopic')) throw err
      return { recipients: 0 }
    }
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
    return this.upkeep.onPeerConnected(listener)
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
      const connection = this.upkeep.connectionOf(id)
      const dialError = this.upkeep.dials.lastError(id)
      return {
        peerId: id,
        addresses: libp2p.getConnections(peer).map((c) => c.remoteAddr.toString()),
        topics: ours.filter((topic) => subscribers.get(topic)?.has(id) === true),
        ...(connection === undefined ? {} : { connectedSince: new Date(connection.since).toISOString(), via: connection.via }),
        ...(dialError === undefined ? {} : { lastDialError: dialError })
      }
    })
  }

  /** Peers this node knows of (exchange, connections, the peers file), most recently seen first. */
  knownPeers (): KnownPeer[] {
    return this.upkeep.knownPeers()
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
      libp2p = await createP2PLibp2p(this.settings, this.components, (peer, remoteAddr) => this.upkeep.dials.pinPeerIds(peer, remoteAddr))
      const pubsub = libp2p.services.pubsub
      const allowList = new TopicAllowList(this.network)
      installAllowList(pubsub, allowList)
      installFrameWatch(pubsub, (peer) => { this.onOversizeFrame(peer) })
      const validators = new Map<string, TopicValidatorFn>()
      const exchangePeers = new Set<string>()
      const detach = this.upkeep.attach(libp2p, controller.signal, exchangePeers, () => this.state.code === 'started' ? this.state.running : undefined)
      await libp2p.start()
      const unhandleExchange = await servePeerExchange(libp2p, this.exchangeProtocol)
      const running: Running = {
        libp2p,
        pubsub,
        allowList,
        validators,
        stopValidating: runTopicValidators(pubsub, validators, this.components.log),
        controller,
        suspects: new Set(),
        sweeping: false,
        detach,
        unhandleExchange,
        exchangePeers,
        exchangeTurn: 0,
        lastExchangeAt: 0,
        dialing: new Set(),
        lastSavedAt: Date.now(),
        watchdog: setInterval(() => {
          this.upkeep.sweep(running).catch((err: unknown) => { this.components.log?.debug({ err }, 'watchdog sweep failed') })
        }, this.settings.watchdogIntervalMs)
      }
      this.state = { code: 'started', running }
      this.applyTopics(running)
      await this.upkeep.started(running)
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
    running.stopValidating()
    running.controller.abort()
    this.upkeep.stopping(running)
    running.detach()
    try {
      await this.upkeep.savePeers()
      await running.unhandleExchange().catch(() => {})
      await running.libp2p.stop()
    } finally {
      this.upkeep.stopped()
      this.state = { code: 'stopped' }
    }
  }

  private applyTopics (running: Running): void {
    applyTopics(running.pubsub, running.allowList, running.validators, {
      network: this.network,
      classes: [...this.classes, ...this.settings.relayClasses],
      components: this.components,
      counters: this.counterSet,
      log: this.components.log,
      control: this.control
    })
  }

  /** gossipsub dropped a frame over MAX_INBOUND_DATA_LENGTH: its read stream from the peer is gone. */
  private onOversizeFrame (peer: PeerId): void {
    this.counterSet.countReceived('dropped:frame-too-large')
    this.upkeep.warnings.oversizeFrame(peer.toString())
  }
}
