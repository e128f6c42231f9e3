/**
 * Peer exchange: a node asks a connected peer which cdgossip nodes of the network it is connected
 * to, and dials some of them. One request per stream; the answer is one length-prefixed JSON frame
 * `{"peers":[{"id":…,"addrs":[…]}]}`. Pull-based, so each node decides how often it asks and how
 * much it takes; everything received is bounded by known-peers.ts before use.
 */
import * as lp from 'it-length-prefixed'
import { cleanAddrs, isPeerId, MAX_ADDRS_PER_PEER } from './known-peers.js'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'

/**
 * Peers listed in one answer: enough to reach the target connection count from one neighbour,
 * and a small frame.
 * @default 32
 */
export const MAX_EXCHANGE_PEERS = 32
/** The largest answer read: MAX_EXCHANGE_PEERS × MAX_ADDRS_PER_PEER addresses of ≤ 256 bytes fit with room. */
export const MAX_EXCHANGE_BYTES = 128 * 1024
/** One exchange (dial the protocol, read the answer) gives up after this. */
export const EXCHANGE_TIMEOUT_MS = 5_000
/**
 * A connection is answered at most once per this interval; faster asks get an empty list. An honest node
 * asks once per watchdog sweep at most (10 s), and round-robins over its neighbours.
 */
export const MIN_SERVE_INTERVAL_MS = 1_000
/** Concurrent inbound exchange streams per connection; one is all an honest peer opens. */
export const MAX_INBOUND_EXCHANGE_STREAMS = 2

export interface ExchangeEntry {
  id: string
  addrs: string[]
}

/** The protocol of a network: peers of another network do not speak it, so they are never listed. */
export function peerExchangeProtocol (network: string): string {
  return `/cdgossip/${network}/peer-exchange/1.0.0`
}

/** Encodes an answer; the list is cut to MAX_EXCHANGE_PEERS. */
export function encodeAnswer (entries: ExchangeEntry[]): Uint8Array {
  const peers = entries.slice(0, MAX_EXCHANGE_PEERS).map((e) => ({ id: e.id, addrs: e.addrs.slice(0, MAX_ADDRS_PER_PEER) }))
  return new TextEncoder().encode(JSON.stringify({ peers }))
}

/** Decodes an answer from an untrusted peer; entries that are not a peer ID with addresses are dropped. */
export function decodeAnswer (bytes: Uint8Array): ExchangeEntry[] {
  let data: unknown
  try {
    data = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return []
  }
  const peers = (data as { peers?: unknown } | null)?.peers
  if (!Array.isArray(peers)) return []
  const out: ExchangeEntry[] = []
  for (const entry of peers.slice(0, MAX_EXCHANGE_PEERS)) {
    const { id, addrs } = (entry ?? {}) as { id?: unknown, addrs?: unknown }
    if (!isPeerId(id)) continue
    const clean = cleanAddrs(addrs)
    if (clean.length > 0) out.push({ id, addrs: clean })
  }
  return out
}

type ExchangeLibp2p = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getPeers' | 'peerStore'>

/** Ask `peer` for its list. Throws on transport failures and timeouts; a malformed answer is an empty list. */
export async function requestPeers (libp2p: ExchangeLibp2p, protocol: string, peer: PeerId, signal: AbortSignal): Promise<ExchangeEntry[]> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(EXCHANGE_TIMEOUT_MS)])
  const stream = await libp2p.dialProtocol(peer, protocol, { signal: timeout })
  const onAbort = (): void => { stream.abort(new Error('peer exchange timed out')) }
  timeout.addEventListener('abort', onAbort, { once: true })
  try {
    // nothing to send: closing our side is the request
    await stream.closeWrite()
    for await (const frame of lp.decode(stream.source, { maxDataLength: MAX_EXCHANGE_BYTES })) {
      return decodeAnswer(frame.subarray())
    }
    return []
  } finally {
    timeout.removeEventListener('abort', onAbort)
    await stream.close().catch(() => { stream.abort(new Error('close failed')) })
  }
}

/**
 * Serve the exchange: the connected peers that speak it (so: cdgossip nodes of this network), with
 * the listen addresses their identify reported, the asking peer included (it learns how others
 * see its peer ID: how a copied identity key shows). Returns the unhandle.
 */
export async function servePeerExchange (libp2p: ExchangeLibp2p, protocol: string): Promise<() => Promise<void>> {
  // per connection, not per peer ID: two nodes sharing a copied key must not starve each other,
  // and a closed connection's entry goes with it
  const lastServed = new WeakMap<Connection, number>()
  const answer = async (asking: Connection): Promise<ExchangeEntry[]> => {
    const now = Date.now()
    const last = lastServed.get(asking)
    if (last !== undefined && now - last < MIN_SERVE_INTERVAL_MS) return []
    lastServed.set(asking, now)
    const overLoopback = isLoopback(asking.remoteAddr.toString())
    const entries: ExchangeEntry[] = []
    for (const peer of libp2p.getPeers()) {
      if (entries.length >= MAX_EXCHANGE_PEERS) break
      try {
        const stored = await libp2p.peerStore.get(peer)
        if (!stored.protocols.includes(protocol)) continue
        // a peer's loopback address means the asking node itself unless it asks over loopback
        const addrs = cleanAddrs(stored.addresses.map((a) => a.multiaddr.toString()))
          .filter((a) => overLoopback || !isLoopback(a))
        if (addrs.length > 0) entries.push({ id: peer.toString(), addrs })
      } catch {
        // not in the peer store (yet): not listed
      }
    }
    return entries
  }
  await libp2p.handle(protocol, ({ stream, connection }) => {
    serveOne(stream, answer(connection)).catch((err: unknown) => {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    })
  }, { maxInboundStreams: MAX_INBOUND_EXCHANGE_STREAMS })
  return async () => { await libp2p.unhandle(protocol) }
}

/** A loopback multiaddr: it names a different node on every host. */
export function isLoopback (addr: string): boolean {
  return addr.startsWith('/ip4/127.') || addr.startsWith('/ip6/::1/')
}

async function serveOne (stream: Stream, entries: Promise<ExchangeEntry[]>): Promise<void> {
  const bytes = encodeAnswer(await entries)
  await stream.sink([lp.encode.single(bytes)])
  await stream.close()
}
