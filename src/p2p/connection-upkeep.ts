import { KEEP_ALIVE } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ConnectionWarnings } from './connection-warnings.js'
import { DialGuards, dialSignal, errorText } from './dial-guards.js'
import { KnownPeers, type KnownPeer } from './known-peers.js'
import { PROTOCOL_P2P, ownAddresses, type P2PLibp2p, type P2PSettings, type PeerMemory } from './libp2p-node.js'
import { isLoopback, requestPeers } from './peer-exchange.js'
import type { ConnectionVia } from './types.js'
import type { GossipSub } from '@chainsafe/libp2p-gossipsub'
import type { IdentifyResult, PeerId, PeerInfo as Libp2pPeerInfo } from '@libp2p/interface'
import type { Logger } from 'pino'

/**
 * At or above the target, a node still asks one neighbour for its peers this often, to keep the
 * remembered peers fresh for the next restart; below it, every watchdog sweep.
 */
export const EXCHANGE_REFRESH_MS = 5 * 60_000
/** The peers file is rewritten at most this often while running (and always at stop). */
export const PEERS_SAVE_INTERVAL_MS = 60_000
const BOOTSTRAP_TAG = `${KEEP_ALIVE}-cdgossip-bootstrap`
const BOOTSTRAP_TAG_VALUE = 50

/** The part of the service's running state the upkeep reads and advances. */
export interface UpkeepRun {
  libp2p: P2PLibp2p
  pubsub: GossipSub
  controller: AbortController
  /** peers missing from gossipsub on the previous sweep */
  suspects: Set<string>
  /** a sweep awaits the peer store and hang-ups; the next tick skips while one runs */
  sweeping: boolean
  /** connected peers that speak this network's peer exchange, in the order they identified */
  exchangePeers: Set<string>
  exchangeTurn: number
  lastExchangeAt: number
  /** discovery dials in flight */
  dialing: Set<string>
  lastSavedAt: number
}

export interface ConnectionUpkeepComponents {
  log?: Logger
  peerMemory?: PeerMemory
}

/**
 * The connection upkeep gossipsub 14 and libp2p 2.x leave to the application (P2P-NOTES):
 * bootstrap peers tagged and redialled, peers discovered by exchange or mDNS dialled up to the
 * target with a backoff, peers remembered across restarts, and the watchdog sweep that hangs up
 * peers gossipsub silently dropped. What it learns about peers outlives a stop.
 */
export class ConnectionUpkeep {
  readonly warnings: ConnectionWarnings
  readonly dials: DialGuards
  private readonly log: Logger | undefined
  private readonly known: KnownPeers
  private peersLoaded = false
  private peersChanged = false
  /** per connected peer: since when and how the connection came about */
  private readonly connections = new Map<string, { since: number, via: ConnectionVia }>()
  private readonly peerConnectedListeners = new Set<(peerId: string) => void>()

  constructor (
    private readonly components: ConnectionUpkeepComponents,
    private readonly settings: P2PSettings,
    private readonly exchangeProtocol: string
  ) {
    this.log = components.log
    this.warnings = new ConnectionWarnings(settings.peerId, this.log)
    this.dials = new DialGuards(settings.watchdogIntervalMs)
    this.known = new KnownPeers(settings.peerId)
  }

  connectionOf (id: string): { since: number, via: ConnectionVia } | undefined {
    return this.connections.get(id)
  }

  knownPeers (): KnownPeer[] {
    return this.known.list()
  }

  onPeerConnected (listener: (peerId: string) => void): () => void {
    this.peerConnectedListeners.add(listener)
    return () => { this.peerConnectedListeners.delete(listener) }
  }

  /** After libp2p started: remembered peers loaded, bootstrap peers kept, the deficit dialled. */
  async started (run: UpkeepRun): Promise<void> {
    if (this.settings.selfBootstrapAddrs.length > 0) this.warnings.selfBootstrapEntries(this.settings.selfBootstrapAddrs, ownAddresses(run.libp2p))
    await this.loadPeers()
    await this.keepBootstrapPeers(run)
    this.dialDeficit(run)
  }

  /** Before libp2p stops: the peers connected now are the freshest to come back to. */
  stopping (run: UpkeepRun): void {
    const now = Date.now()
    for (const id of run.exchangePeers) this.touchKnown(id, now)
  }

  /** After the stop: nothing is connected, no dial is in flight. */
  stopped (): void {
    this.connections.clear()
    this.dials.via.clear()
  }

  /** Libp2p event wiring; returns the detach. `current` is the run while started. */
  attach (libp2p: P2PLibp2p, signal: AbortSignal, exchangePeers: Set<string>, current: () => UpkeepRun | undefined): () => void {
    const { bootstrapPeers } = this.settings
    const onConnect = (evt: CustomEvent<PeerId>): void => {
      const id = evt.detail.toString()
      const direction = libp2p.getConnections(evt.detail)[0]?.direction
      // libp2p's own keep-alive redial of a bootstrap peer has no dialVia entry
      const via = this.dials.via.get(id) ?? (direction === 'inbound' ? 'inbound' : bootstrapPeers.has(id) ? 'bootstrap' : 'dial')
      this.connections.set(id, { since: Date.now(), via })
      this.dials.via.delete(id)
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
      if (!bootstrapPeers.has(evt.detail.toString()) || signal.aborted) return
      libp2p.peerStore.merge(evt.detail, { tags: { [BOOTSTRAP_TAG]: { value: BOOTSTRAP_TAG_VALUE } } })
        .catch((err: unknown) => { this.log?.debug({ err }, 'could not re-tag bootstrap peer') })
    }
    // 2.x has no autodialer: discovered peers only land in the peer store (P2P-NOTES)
    const onDiscovery = (evt: CustomEvent<Libp2pPeerInfo>): void => {
      if (signal.aborted || libp2p.getConnections(evt.detail.id).length > 0) return
      this.dials.via.set(evt.detail.id.toString(), 'mdns')
      libp2p.dial(evt.detail.id, { signal: dialSignal(signal) })
        .catch((err: unknown) => {
          this.dials.via.delete(evt.detail.id.toString())
          this.log?.debug({ err, peer: evt.detail.id.toString() }, 'could not dial discovered peer')
        })
    }
    const onDisconnect = (evt: CustomEvent<PeerId>): void => {
      const id = evt.detail.toString()
      this.connections.delete(id)
      if (exchangePeers.delete(id)) this.touchKnown(id, Date.now())
    }
    // a cdgossip node of this network: remembered, and asked for its peers while we have too few
    const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
      const { peerId, listenAddrs, protocols, connection } = evt.detail
      if (signal.aborted || !protocols.includes(this.exchangeProtocol)) return
      const id = peerId.toString()
      // a remote peer's loopback address would lead back to this host after a restart
      const local = isLoopback(connection.remoteAddr.toString())
      const addrs = listenAddrs.map(String).filter((a) => local || !isLoopback(a))
      if (this.known.note(id, addrs, Date.now())) this.peersChanged = true
      exchangePeers.add(id)
      const run = current()
      if (run !== undefined && libp2p.getPeers().length < this.settings.targetConnections) {
        this.exchangeWith(run, id)
      }
    }
    libp2p.addEventListener('peer:connect', onConnect)
    libp2p.addEventListener('peer:disconnect', onDisconnect)
    libp2p.addEventListener('peer:identify', onIdentify)
    libp2p.addEventListener('peer:reconnect-failure', onReconnectFailure)
    if (this.settings.mdns) libp2p.addEventListener('peer:discovery', onDiscovery)
    return () => {
      libp2p.removeEventListener('peer:connect', onConnect)
      libp2p.removeEventListener('peer:disconnect', onDisconnect)
      libp2p.removeEventListener('peer:identify', onIdentify)
      libp2p.removeEventListener('peer:reconnect-failure', onReconnectFailure)
      libp2p.removeEventListener('peer:discovery', onDiscovery)
    }
  }

  /** KEEP_ALIVE-tag bootstrap peers so libp2p redials them whenever they disconnect, and dial them now. */
  private async keepBootstrapPeers (running: UpkeepRun): Promise<void> {
    const { libp2p } = running
    await Promise.all([...this.settings.bootstrapPeers].map(async ([id, addrs]) => {
      await libp2p.peerStore.merge(peerIdFromString(id), {
        multiaddrs: addrs.map((ma) => ma.decapsulateCode(PROTOCOL_P2P)),
        tags: { [BOOTSTRAP_TAG]: { value: BOOTSTRAP_TAG_VALUE } }
      })
    }))
    this.redialBootstrapPeers(running)
  }

  private redialBootstrapPeers (running: UpkeepRun): void {
    const { libp2p, controller } = running
    for (const id of this.settings.bootstrapPeers.keys()) {
      const peer = peerIdFromString(id)
      if (libp2p.getConnections(peer).length > 0) continue
      this.dials.via.set(id, 'bootstrap')
      libp2p.dial(peer, { signal: dialSignal(controller.signal) })
        .catch((err: unknown) => {
          if (controller.signal.aborted) return
          this.bootstrapFailed(id, err)
        })
    }
  }

  private bootstrapFailed (id: string, err: unknown): void {
    const { text, answeredAs } = this.dials.bootstrapFailed(id, err)
    const address = (this.settings.bootstrapPeers.get(id) ?? []).map(String).join(', ')
    this.warnings.bootstrapFailed(id, address, text, answeredAs)
  }

  private async loadPeers (): Promise<void> {
    const memory = this.components.peerMemory
    if (memory === undefined || this.peersLoaded) return
    this.peersLoaded = true
    try {
      const content = await memory.load()
      if (content === undefined) return
      const kept = this.known.loadFile(content)
      this.log?.debug({ peers: kept }, 'remembered peers loaded')
    } catch (err) {
      this.log?.warn({ err: errorText(err) }, 'peers file unusable; starting without remembered peers (it is rewritten from the peers seen now)')
    }
  }

  async savePeers (): Promise<void> {
    const memory = this.components.peerMemory
    if (memory === undefined || !this.peersChanged) return
    this.peersChanged = false
    try {
      await memory.save(this.known.toFile())
    } catch (err) {
      this.peersChanged = true
      this.log?.warn({ err: errorText(err) }, 'could not write the peers file')
    }
  }

  /** Record that we are (or were, until now) connected to `id`: the freshest peers come first on restart. */
  private touchKnown (id: string, now: number): void {
    if (this.known.get(id) !== undefined && this.known.note(id, [], now)) this.peersChanged = true
  }

  /** Each sweep: below the target, ask one neighbour (round robin) for peers and dial what we know. */
  private maintainConnections (running: UpkeepRun): void {
    const connected = running.libp2p.getPeers().length
    const due = connected < this.settings.targetConnections || Date.now() - running.lastExchangeAt >= EXCHANGE_REFRESH_MS
    if (due && running.exchangePeers.size > 0) {
      const peers = [...running.exchangePeers]
      const id = peers[running.exchangeTurn++ % peers.length] as string
      this.exchangeWith(running, id)
    }
    this.dialDeficit(running)
  }

  private exchangeWith (running: UpkeepRun, id: string): void {
    const { libp2p, controller } = running
    running.lastExchangeAt = Date.now()
    requestPeers(libp2p, this.exchangeProtocol, peerIdFromString(id), controller.signal)
      .then((entries) => {
        if (controller.signal.aborted) return
        this.log?.trace({ peer: id, entries }, 'peer exchange answered')
        for (const entry of entries) {
          if (entry.id === this.settings.peerId) this.warnings.ownIdSighting(id, entry.addrs, ownAddresses(libp2p))
          else this.known.note(entry.id, entry.addrs)
        }
        this.dialDeficit(running)
      })
      .catch((err: unknown) => { this.log?.debug({ err: errorText(err), peer: id }, 'peer exchange failed') })
  }

  /** Dial known peers, most recently seen first, until connected plus in-flight dials reach the target. */
  private dialDeficit (running: UpkeepRun): void {
    const { libp2p, controller } = running
    if (controller.signal.aborted) return
    let budget = this.settings.targetConnections - libp2p.getPeers().length - running.dialing.size
    const now = Date.now()
    for (const peer of this.known.list()) {
      if (budget <= 0) break
      // bootstrap peers have their own redial (redialBootstrapPeers)
      if (this.settings.bootstrapPeers.has(peer.id) || running.dialing.has(peer.id) || this.dials.backedOff(peer.id, now)) continue
      const peerId = peerIdFromString(peer.id)
      if (libp2p.getConnections(peerId).length > 0) continue
      budget--
      running.dialing.add(peer.id)
      this.dials.via.set(peer.id, peer.lastConnected === undefined ? 'discovery' : 'remembered')
      libp2p.peerStore.merge(peerId, { multiaddrs: peer.addrs.map((a) => multiaddr(a)) })
        .then(async () => await libp2p.dial(peerId, { signal: dialSignal(controller.signal) }))
        .then(() => { this.dials.succeeded(peer.id) })
        .catch((err: unknown) => {
          if (controller.signal.aborted) return
          this.dials.discoveryFailed(peer.id, err)
          this.log?.debug({ err: errorText(err), peer: peer.id }, 'could not dial a discovered peer')
        })
        .finally(() => { running.dialing.delete(peer.id) })
    }
  }

  /** The watchdog tick: hangs up peers gossipsub dropped, redials, tops up, saves the peers file now and then. */
  async sweep (running: UpkeepRun): Promise<void> {
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
      if (!controller.signal.aborted) {
        this.redialBootstrapPeers(running)
        this.maintainConnections(running)
        if (this.peersChanged && Date.now() - running.lastSavedAt >= PEERS_SAVE_INTERVAL_MS) {
          running.lastSavedAt = Date.now()
          await this.savePeers()
        }
      }
    } finally {
      running.sweeping = false
    }
  }
}

async function speaksGossipsub ({ libp2p, pubsub }: UpkeepRun, peer: PeerId): Promise<boolean> {
  try {
    const { protocols } = await libp2p.peerStore.get(peer)
    return protocols.some((protocol) => pubsub.multicodecs.includes(protocol))
  } catch {
    return false
  }
}

