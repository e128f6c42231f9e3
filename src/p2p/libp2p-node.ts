import { randomUUID } from 'node:crypto'
import { GossipSub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pInit } from 'libp2p'
import { isValidNetworkName } from '../events/index.js'
import { gatheringWrites } from './gathered-writes.js'
import { P2PConfigError } from './errors.js'
import { DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_IP_COLOCATION_WEIGHT, gossipsubOptions } from './gossip-options.js'
import { topicForClass, type TopicAllowList } from './topic-allow-list.js'
import type { P2PComponents } from './types.js'
import type { EventClass } from '../events/types.js'
import type { Identify } from '@libp2p/identify'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'

// Building the libp2p node: the service's init, checked once, and the libp2p options made from it.

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
/**
 * Connections this node keeps by dialling peers it discovered or remembers; above it, it stops
 * dialling (it still accepts). 8 gives every node several disjoint paths, so the loss of any one
 * node (a hub) leaves the rest connected, at a few connections' cost each.
 * @default 8
 */
export const DEFAULT_TARGET_CONNECTIONS = 8
/** multiaddr code of `/p2p/<id>`, which the peer store keeps apart from addresses */
export const PROTOCOL_P2P = 421

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
  /** dial discovered and remembered peers until this many are connected @default DEFAULT_TARGET_CONNECTIONS */
  targetConnections?: number
}

/**
 * Where the peers seen are remembered across restarts (node.ts: `<data dir>/peers.json`). load()
 * resolves undefined when there is nothing yet and throws when the file is unusable.
 */
export interface PeerMemory {
  load: () => Promise<unknown>
  save: (content: unknown) => Promise<void>
}

export interface P2PServiceComponents extends P2PComponents {
  log?: Logger
  /**
   * libp2p's metrics implementation (e.g. @libp2p/prometheus-metrics), asked for once per libp2p
   * node, i.e. on every start: libp2p registers its metrics when a node is built, so a restarted
   * service needs a fresh one. None by default.
   */
  libp2pMetrics?: () => NonNullable<Libp2pInit['metrics']>
  /** none: nothing is remembered across restarts */
  peerMemory?: PeerMemory
}

export type P2PServices = { identify: Identify, ping: Ping, pubsub: GossipSub }
export type P2PLibp2p = Libp2p<P2PServices>

/** P2PInit checked and with its defaults applied; the same for every start. */
export interface P2PSettings {
  network: string
  peerId: string
  privateKey: PrivateKey
  transport: 'tcp' | 'memory'
  listen: string[]
  bootstrapAddrs: Multiaddr[]
  /** by peer ID: the bootstrap entries of other nodes */
  bootstrapPeers: Map<string, Multiaddr[]>
  /** bootstrap entries carrying this node's own peer ID: checked against our addresses at start */
  selfBootstrapAddrs: Multiaddr[]
  mdns: boolean
  heartbeatIntervalMs: number
  ipColocationWeight: number
  inboundConnectionThreshold: number
  watchdogIntervalMs: number
  targetConnections: number
  relayClasses: EventClass[]
}

/** Validates everything a start would otherwise fail on later (P2PConfigError). */
export function p2pSettings (init: P2PInit, peerId: string): P2PSettings {
  if (!isValidNetworkName(init.network)) {
    throw new P2PConfigError('network', 'must be 1–63 of [a-z0-9-], starting with a letter or digit')
  }
  const transport = init.transport ?? 'tcp'
  const listen = [...(init.listen ?? (transport === 'memory' ? [`/memory/${randomUUID()}`] : DEFAULT_LISTEN))]
  for (const addr of listen) parseMultiaddr('listen', addr)
  const bootstrapAddrs = (init.bootstrap ?? []).map((addr) => parseMultiaddr('bootstrap', addr))
  const bootstrapPeers = new Map<string, Multiaddr[]>()
  const selfBootstrapAddrs: Multiaddr[] = []
  for (const ma of bootstrapAddrs) {
    const id = ma.getPeerId()
    if (id === null) throw new P2PConfigError('bootstrap', `${ma.toString()} has no /p2p/<peerId>`)
    if (id === peerId) {
      selfBootstrapAddrs.push(ma)
      continue
    }
    bootstrapPeers.set(id, [...(bootstrapPeers.get(id) ?? []), ma])
  }
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', init.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS)
  const ipColocationWeight = init.ipColocationWeight ?? DEFAULT_IP_COLOCATION_WEIGHT
  if (!(ipColocationWeight <= 0)) throw new P2PConfigError('ipColocationWeight', 'must be ≤ 0')
  const inboundConnectionThreshold = positive('inboundConnectionThreshold', init.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD)
  const watchdogIntervalMs = positive('watchdogIntervalMs', init.watchdogIntervalMs ?? DEFAULT_WATCHDOG_INTERVAL_MS)
  const targetConnections = positive('targetConnections', init.targetConnections ?? DEFAULT_TARGET_CONNECTIONS)
  const relayClasses = [...(init.relayClasses ?? [])]
  for (const eventClass of relayClasses) {
    try {
      topicForClass(init.network, eventClass)
    } catch (err) {
      throw new P2PConfigError('relayClasses', `${JSON.stringify(eventClass)} cannot name a topic`, { cause: err })
    }
  }
  return {
    network: init.network,
    peerId,
    privateKey: init.privateKey,
    transport,
    listen,
    bootstrapAddrs,
    bootstrapPeers,
    selfBootstrapAddrs,
    mdns: init.mdns ?? false,
    heartbeatIntervalMs,
    ipColocationWeight,
    inboundConnectionThreshold,
    watchdogIntervalMs,
    targetConnections,
    relayClasses
  }
}

/**
 * A fresh, unstarted libp2p node. `refuseOutbound` is the connection gater's answer once the
 * remote's peer ID is known (true refuses; see DialGuards.pinPeerIds).
 */
export async function createP2PLibp2p (
  settings: P2PSettings,
  components: P2PServiceComponents,
  refuseOutbound: (peer: PeerId, remoteAddr: Multiaddr) => boolean
): Promise<P2PLibp2p> {
  const gossipOptions = gossipsubOptions({
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    ipColocationWeight: settings.ipColocationWeight
  })
  const peerDiscovery = []
  if (settings.bootstrapAddrs.length > 0) {
    // start() tags and dials bootstrap peers itself; the module adds their discovery events,
    // and a delayed extra dial from it would only blur which mechanism reconnects what
    peerDiscovery.push(bootstrap({ list: settings.bootstrapAddrs.map(String), timeout: 0 }))
  }
  if (settings.mdns) peerDiscovery.push(mdns())
  return await createLibp2p<P2PServices>({
    start: false,
    privateKey: settings.privateKey,
    addresses: { listen: settings.listen },
    transports: settings.transport === 'memory' ? [memory()] : [tcp()],
    connectionEncrypters: [gatheringWrites(noise())],
    streamMuxers: [yamux()],
    peerDiscovery,
    ...(components.libp2pMetrics === undefined ? {} : { metrics: components.libp2pMetrics() }),
    connectionGater: { denyOutboundEncryptedConnection: (peer, conn) => refuseOutbound(peer, conn.remoteAddr) },
    connectionManager: {
      inboundConnectionThreshold: settings.inboundConnectionThreshold,
      maxIncomingPendingConnections: MAX_INCOMING_PENDING_CONNECTIONS
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: (components) => new GossipSub(components, gossipOptions)
    }
  })
}

/** This node's listen addresses without `/p2p/<id>`, as other nodes would list them. */
export function ownAddresses (libp2p: P2PLibp2p): Set<string> {
  return new Set(libp2p.getMultiaddrs().map((ma) => ma.decapsulateCode(PROTOCOL_P2P).toString()))
}

/**
 * gossipsub 14 copies `allowedTopics` into a private Set, so a prefix rule (this network's
 * topics, bounded) can only be installed by replacing that field. It is checked for with
 * `has` only. If a release renames it, start fails here instead of filtering nothing.
 */
export function installAllowList (pubsub: GossipSub, allowList: TopicAllowList): void {
  const slot = pubsub as unknown as { allowedTopics?: { has: (topic: string) => boolean } | null }
  if (!(slot.allowedTopics instanceof Set)) {
    throw new Error('gossipsub internals changed: no allowedTopics set to replace')
  }
  slot.allowedTopics = allowList
}

/**
 * gossipsub 14 reports a failed inbound read stream only to its private
 * `handlePeerReadStreamError(err, peerId)`, kept overridable "to spy on the error handling"; an
 * oversize frame fails there with it-length-prefixed's InvalidDataLengthError and nothing else
 * sees it. Wrapped here to count and log it; as with the allow-list, a renamed hook fails start.
 */
export function installFrameWatch (pubsub: GossipSub, onOversize: (peer: PeerId) => void): void {
  const slot = pubsub as unknown as { handlePeerReadStreamError?: (err: unknown, peer: PeerId) => void }
  const original = slot.handlePeerReadStreamError
  if (typeof original !== 'function') throw new Error('gossipsub internals changed: no handlePeerReadStreamError to watch')
  slot.handlePeerReadStreamError = (err: unknown, peer: PeerId): void => {
    if (err instanceof Error && err.name === 'InvalidDataLengthError') onOversize(peer)
    original.call(pubsub, err, peer)
  }
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
