/**
 * How community manifest chains travel: a per-network control topic on which a node gossips its
 * own community's chain (at start, on change, on a slow timer), and a request/response protocol
 * by which a node asks a newly connected peer for the chains of the communities it trusts (gossip
 * only reaches who is connected at the moment; the ask catches up whoever joins later). p2p only
 * moves bytes: what a chain means is the node's (receiveChains / chainsFor), as with records.
 */
import { TopicValidatorResult } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { MAX_RECORD_BYTES } from './gossip-options.js'
import type { P2PService } from './p2p-node.js'
import type { Message, PeerId, Stream, TopicValidatorFn } from '@libp2p/interface'
import type { Logger } from 'pino'

/** The chain of one gossip message; bigger chains travel only by the exchange (gossip frames are capped, P2P-NOTES). */
export const MAX_CONTROL_MESSAGE_BYTES = MAX_RECORD_BYTES
/** The largest exchange answer read; 66 manifests of 64 KiB each in base64 fit once, more communities share it. */
export const MAX_EXCHANGE_ANSWER_BYTES = 8 * 1024 * 1024
/** Root keys one request may name (each trust entry names one; a node trusts at most a few hundred communities). */
export const MAX_REQUESTED_ROOT_KEYS = 1_024
/** The request frame: MAX_REQUESTED_ROOT_KEYS peer IDs of ≤ 128 characters. */
export const MAX_EXCHANGE_REQUEST_BYTES = 160 * 1024
/** Chains listed in one answer. */
export const MAX_EXCHANGE_CHAINS = 1_024
/** One exchange gives up after this. */
export const MANIFEST_EXCHANGE_TIMEOUT_MS = 10_000
/**
 * The own chain is gossiped again this often, and connected peers are asked again: a node that
 * missed the change (offline, partitioned) hears it within one period even without reconnecting.
 * @default 300_000
 */
export const DEFAULT_REPUBLISH_MS = 300_000
/** Concurrent inbound exchange streams per connection; an honest peer opens one at a time. */
const MAX_INBOUND_EXCHANGE_STREAMS = 2

export type ControlVerdict = 'accept' | 'ignore' | 'reject'

export interface CommunityChannelComponents {
  p2p: Pick<P2PService, 'joinControlTopic' | 'publishControl' | 'onPeerConnected' | 'libp2p' | 'peers'>
  /**
   * Offer one chain (untrusted JSON) from a peer. `reject` only for what is invalid for every node
   * (forged, malformed): gossip then costs the forwarder score; `ignore` for stale or of no interest.
   */
  receiveChain(chain: unknown, context: { from: string, via: 'gossip' | 'exchange' }): Promise<ControlVerdict>
  /** the held chains of communities having any of these root keys (a peer asking for what it trusts) */
  chainsFor(rootKeys: string[]): unknown[]
  /** root keys this node's trust entries name: what it asks peers for */
  wantedRootKeys(): string[]
  /** this node's own community's chain, if it has one */
  ownChain(): unknown
  log?: Logger
}

export interface CommunityChannelInit {
  network: string
  /** @default DEFAULT_REPUBLISH_MS */
  republishMs?: number
}

export function communityTopic (network: string): string {
  return `cdgossip/${network}/community/1`
}

export function communityExchangeProtocol (network: string): string {
  return `/cdgossip/${network}/community/1.0.0`
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function parseJson (bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes))
  } catch {
    return undefined
  }
}

interface Running {
  timer: ReturnType<typeof setInterval>
  controller: AbortController
  detach: () => void
}

/** The control topic and the exchange of one running P2PService; start after it, stop before it. */
export class CommunityChannel {
  private readonly components: CommunityChannelComponents
  private readonly topic: string
  private readonly protocol: string
  private readonly republishMs: number
  private running: Running | undefined

  constructor (components: CommunityChannelComponents, init: CommunityChannelInit) {
    this.components = components
    this.topic = communityTopic(init.network)
    this.protocol = communityExchangeProtocol(init.network)
    this.republishMs = init.republishMs ?? DEFAULT_REPUBLISH_MS
  }

  async start (): Promise<void> {
    if (this.running !== undefined) return
    const { p2p } = this.components
    p2p.joinControlTopic(this.topic, this.validator())
    await p2p.libp2p.handle(this.protocol, ({ stream }) => {
      this.serve(stream).catch((err: unknown) => { stream.abort(err instanceof Error ? err : new Error(String(err))) })
    }, { maxInboundStreams: MAX_INBOUND_EXCHANGE_STREAMS })
    const controller = new AbortController()
    const detach = p2p.onPeerConnected(peerId => { void this.ask(peerId, controller.signal) })
    const timer = setInterval(() => {
      void this.publishOwn()
      this.askConnected()
    }, this.republishMs)
    this.running = { timer, controller, detach }
    await this.publishOwn()
    this.askConnected()
  }

  async stop (): Promise<void> {
    const running = this.running
    if (running === undefined) return
    this.running = undefined
    clearInterval(running.timer)
    running.controller.abort()
    running.detach()
    await this.components.p2p.libp2p.unhandle(this.protocol).catch(() => {})
  }

  /** Gossip the own chain (start, change, timer). Best effort: peers that miss it ask on connect. */
  async publishOwn (): Promise<void> {
    const chain = this.components.ownChain()
    if (chain === undefined) return
    const bytes = encoder.encode(JSON.stringify({ chain }))
    if (bytes.byteLength > MAX_CONTROL_MESSAGE_BYTES) {
      this.components.log?.warn({ bytes: bytes.byteLength, max: MAX_CONTROL_MESSAGE_BYTES }, 'own community chain too large to gossip; peers get it by asking')
      return
    }
    try {
      await this.components.p2p.publishControl(this.topic, bytes)
    } catch (err) {
      this.components.log?.debug({ err }, 'community chain gossip failed; peers ask on connect')
    }
  }

  /** Ask every connected peer for the trusted communities' chains (a new community entry, the timer). */
  askConnected (): void {
    const signal = this.running?.controller.signal
    if (signal === undefined) return
    for (const peer of this.components.p2p.peers()) void this.ask(peer.peerId, signal)
  }

  private validator (): TopicValidatorFn {
    return async (peer: PeerId, message: Message): Promise<TopicValidatorResult> => {
      if (message.data.byteLength > MAX_CONTROL_MESSAGE_BYTES) return TopicValidatorResult.Reject
      const body = parseJson(message.data) as { chain?: unknown } | undefined
      if (typeof body !== 'object' || body === null || !Array.isArray(body.chain)) return TopicValidatorResult.Reject
      try {
        return VERDICTS[await this.components.receiveChain(body.chain, { from: peer.toString(), via: 'gossip' })]
      } catch (err) {
        // a local failure (store down, stopping), never the sender's fault
        this.components.log?.debug({ err }, 'community chain from gossip not taken')
        return TopicValidatorResult.Ignore
      }
    }
  }

  private async ask (peerId: string, signal: AbortSignal): Promise<void> {
    const rootKeys = this.components.wantedRootKeys().slice(0, MAX_REQUESTED_ROOT_KEYS)
    if (rootKeys.length === 0) return
    try {
      const chains = await this.request(peerId, rootKeys, signal)
      for (const chain of chains) await this.components.receiveChain(chain, { from: peerId, via: 'exchange' })
    } catch (err) {
      // a peer of an older version does not speak the protocol; the next connect or timer asks again
      this.components.log?.debug({ err, peer: peerId }, 'community chain exchange failed')
    }
  }

  private async request (peerId: string, rootKeys: string[], signal: AbortSignal): Promise<unknown[]> {
    const { libp2p } = this.components.p2p
    const peer = libp2p.getPeers().find(p => p.toString() === peerId)
    if (peer === undefined) return []
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(MANIFEST_EXCHANGE_TIMEOUT_MS)])
    const stream = await libp2p.dialProtocol(peer, this.protocol, { signal: timeout })
    const onAbort = (): void => { stream.abort(new Error('community chain exchange timed out')) }
    timeout.addEventListener('abort', onAbort, { once: true })
    try {
      await stream.sink([lp.encode.single(encoder.encode(JSON.stringify({ rootKeys })))])
      for await (const frame of lp.decode(stream.source, { maxDataLength: MAX_EXCHANGE_ANSWER_BYTES })) {
        const body = parseJson(frame.subarray()) as { chains?: unknown } | undefined
        return typeof body === 'object' && body !== null && Array.isArray(body.chains) ? body.chains.slice(0, MAX_EXCHANGE_CHAINS) : []
      }
      return []
    } finally {
      timeout.removeEventListener('abort', onAbort)
      await stream.close().catch(() => { stream.abort(new Error('close failed')) })
    }
  }

  private async serve (stream: Stream): Promise<void> {
    let rootKeys: string[] = []
    for await (const frame of lp.decode(stream.source, { maxDataLength: MAX_EXCHANGE_REQUEST_BYTES })) {
      const body = parseJson(frame.subarray()) as { rootKeys?: unknown } | undefined
      const asked = typeof body === 'object' && body !== null && Array.isArray(body.rootKeys) ? body.rootKeys : []
      rootKeys = asked.slice(0, MAX_REQUESTED_ROOT_KEYS).filter((k): k is string => typeof k === 'string')
      break
    }
    await stream.sink([lp.encode.single(encodeChains(this.components.chainsFor(rootKeys).slice(0, MAX_EXCHANGE_CHAINS)))])
    await stream.close()
  }
}

/** The answer, with as many chains as fit the reader's bound (the rest: asked again from another peer). */
function encodeChains (chains: unknown[]): Uint8Array {
  const parts: string[] = []
  let size = '{"chains":[]}'.length
  for (const chain of chains) {
    const part = JSON.stringify(chain)
    if (size + part.length + 1 > MAX_EXCHANGE_ANSWER_BYTES) break
    parts.push(part)
    size += part.length + 1
  }
  return encoder.encode(`{"chains":[${parts.join(',')}]}`)
}

const VERDICTS: Readonly<Record<ControlVerdict, TopicValidatorResult>> = Object.freeze({
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject
})
