import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'

/**
 * Peers remembered (from peer exchange, connections and the peers file). Each costs a few hundred
 * bytes; a federation is tens of nodes, and past this the least recently seen is forgotten, so
 * peers announcing made-up peers cannot grow memory or the peers file.
 * @default 256
 */
export const MAX_KNOWN_PEERS = 256
/** Addresses kept per peer: a node listens on a handful (IPv4, IPv6, a few interfaces). */
export const MAX_ADDRS_PER_PEER = 8
/** A longer multiaddr string is refused: real ones are under 100 characters. */
export const MAX_ADDR_LENGTH = 256
/** Longer strings are not parsed as peer IDs: an Ed25519 one is 52 characters, an RSA one ~46. */
const MAX_PEER_ID_LENGTH = 128
/** multiaddr code of `/p2p/<id>` */
const PROTOCOL_P2P = 421
/** Format of the peers file, so a later layout can tell an old file from garbage. */
export const PEERS_FILE_VERSION = 1

export interface KnownPeer {
  id: string
  /** dialable multiaddrs without `/p2p/<id>` */
  addrs: string[]
  /** ms since the epoch this node was last connected to the peer; absent when only heard of */
  lastConnected?: number
}

/** The peers file's content. */
export interface PeersFile {
  version: typeof PEERS_FILE_VERSION
  peers: Array<{ id: string, addrs: string[], lastConnected: number }>
}

/**
 * The peer's addresses that are plausible multiaddrs, without `/p2p/…` suffixes, deduplicated and
 * bounded. Anything from the network or the file passes through here.
 */
export function cleanAddrs (addrs: unknown): string[] {
  if (!Array.isArray(addrs)) return []
  const out = new Set<string>()
  for (const addr of addrs) {
    if (out.size >= MAX_ADDRS_PER_PEER) break
    if (typeof addr !== 'string' || addr.length === 0 || addr.length > MAX_ADDR_LENGTH) continue
    try {
      const ma = multiaddr(addr)
      // relayed addresses need a relay this node does not run
      if (ma.protoNames().includes('p2p-circuit')) continue
      // the peer ID is kept apart from the addresses, as libp2p's peer store does
      const bare = ma.decapsulateCode(PROTOCOL_P2P)
      if (bare.protoNames().length === 0) continue
      out.add(bare.toString())
    } catch {
      // not a multiaddr: dropped
    }
  }
  return [...out]
}

export function isPeerId (id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_PEER_ID_LENGTH) return false
  try {
    peerIdFromString(id)
    return true
  } catch {
    return false
  }
}

/** A bounded, least-recently-seen-first memory of peers; this node's own ID is never kept. */
export class KnownPeers {
  /** insertion order is recency order: a noted peer moves to the end */
  private readonly peers = new Map<string, KnownPeer>()

  constructor (private readonly self: string, private readonly max: number = MAX_KNOWN_PEERS) {}

  get size (): number {
    return this.peers.size
  }

  get (id: string): KnownPeer | undefined {
    return this.peers.get(id)
  }

  /** Remember (or refresh) a peer; returns false when the ID or every address was unusable. */
  note (id: unknown, addrs: unknown, lastConnected?: number): boolean {
    if (!isPeerId(id) || id === this.self) return false
    const clean = cleanAddrs(addrs)
    const before = this.peers.get(id)
    if (clean.length === 0 && before === undefined) return false
    this.peers.delete(id)
    const connected = lastConnected ?? before?.lastConnected
    this.peers.set(id, {
      id,
      addrs: clean.length > 0 ? clean : (before?.addrs ?? []),
      ...(connected === undefined ? {} : { lastConnected: connected })
    })
    while (this.peers.size > this.max) {
      const oldest = this.peers.keys().next().value
      if (oldest === undefined) break
      this.peers.delete(oldest)
    }
    return true
  }

  /** Most recently noted first. */
  list (): KnownPeer[] {
    return [...this.peers.values()].reverse()
  }

  /** What the peers file keeps: only peers this node was connected to (their identity was proven). */
  toFile (): PeersFile {
    const peers = this.list()
      .filter((p): p is KnownPeer & { lastConnected: number } => p.lastConnected !== undefined && p.addrs.length > 0)
      .map(({ id, addrs, lastConnected }) => ({ id, addrs, lastConnected }))
    return { version: PEERS_FILE_VERSION, peers }
  }

  /**
   * Loads a peers file's parsed JSON; returns how many entries were kept. Throws when it is not a
   * peers file at all; single bad entries are skipped.
   */
  loadFile (data: unknown): number {
    const file = data as Partial<PeersFile> | null
    if (typeof file !== 'object' || file === null || file.version !== PEERS_FILE_VERSION || !Array.isArray(file.peers)) {
      throw new Error(`not a version ${PEERS_FILE_VERSION} peers file`)
    }
    // oldest first, so the most recent end up most recent here too
    const entries = file.peers.slice(0, this.max).reverse()
    let kept = 0
    for (const entry of entries) {
      const e = entry as Partial<KnownPeer> | null
      if (typeof e !== 'object' || e === null) continue
      const at = typeof e.lastConnected === 'number' && Number.isFinite(e.lastConnected) ? e.lastConnected : 0
      if (this.note(e.id, e.addrs, at)) kept++
    }
    return kept
  }
}
