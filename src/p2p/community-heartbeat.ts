/**
 * Heartbeats among the nodes of one community: each node sends each of its sibling nodes one
 * length-prefixed frame per stream, every heartbeat interval, and closes. What the frame says
 * (the sink lease, delivery progress) is the node's business; p2p only moves bounded bytes
 * between peers the node names as siblings. The remote peer ID is the one Noise authenticated,
 * so a frame from a stranger is dropped before it is read.
 */
import * as lp from 'it-length-prefixed'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Libp2p, Stream } from '@libp2p/interface'

/** The largest frame read or sent; progress for many subscriptions fits with room. */
export const MAX_HEARTBEAT_BYTES = 1024 * 1024
/** Concurrent inbound heartbeat streams per connection; a sibling sends one per interval. */
export const MAX_INBOUND_HEARTBEAT_STREAMS = 2

export function communityHeartbeatProtocol (network: string): string {
  return `/cdgossip/${network}/community-heartbeat/1.0.0`
}

type HeartbeatLibp2p = Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>

export interface HeartbeatHandler {
  /** whether `peerId` is a node of this community; others are not read */
  accepts(peerId: string): boolean
  /** one frame from a sibling; must not throw */
  received(peerId: string, bytes: Uint8Array): void
}

/** Serves the protocol until the returned function is called. */
export async function serveHeartbeats (libp2p: HeartbeatLibp2p, protocol: string, handler: HeartbeatHandler): Promise<() => Promise<void>> {
  await libp2p.handle(protocol, ({ stream, connection }) => {
    const from = connection.remotePeer.toString()
    if (!handler.accepts(from)) {
      stream.abort(new Error('not a node of this community'))
      return
    }
    readOne(stream).then(bytes => {
      if (bytes !== undefined) handler.received(from, bytes)
    }, (err: unknown) => {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    })
  }, { maxInboundStreams: MAX_INBOUND_HEARTBEAT_STREAMS })
  return async () => { await libp2p.unhandle(protocol) }
}

/** Sends one frame to `peerId` (dialling it when not connected); throws on failure or after `timeoutMs`. */
export async function sendHeartbeat (libp2p: HeartbeatLibp2p, protocol: string, peerId: string, bytes: Uint8Array, timeoutMs: number): Promise<void> {
  if (bytes.length > MAX_HEARTBEAT_BYTES) throw new Error(`heartbeat of ${bytes.length} bytes is over ${MAX_HEARTBEAT_BYTES}`)
  const signal = AbortSignal.timeout(timeoutMs)
  const stream = await libp2p.dialProtocol(peerIdFromString(peerId), protocol, { signal })
  const onAbort = (): void => { stream.abort(new Error('heartbeat timed out')) }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    await stream.sink([lp.encode.single(bytes)])
    await stream.close()
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

async function readOne (stream: Stream): Promise<Uint8Array | undefined> {
  try {
    for await (const frame of lp.decode(stream.source, { maxDataLength: MAX_HEARTBEAT_BYTES })) return frame.subarray()
    return undefined
  } finally {
    await stream.close().catch(() => { stream.abort(new Error('close failed')) })
  }
}
